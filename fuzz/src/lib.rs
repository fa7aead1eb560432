//! Helpers shared by the fuzz targets: how the first bytes of an input pick an endpoint or a
//! status, and the response value the envelope decoders take.

use bytes::Bytes;
use meetkit::transport::RawResponse;
use meetkit::{EndpointSpec, Vendor};

/// HTTP statuses an envelope decoder may see; the second input byte picks one.
pub const STATUSES: [u16; 12] = [200, 200, 200, 201, 204, 400, 401, 403, 404, 429, 500, 502];

/// The endpoint of `vendor`'s table named `id`; an unknown id picks one by its length, so
/// mutated ids still reach a decoder.
pub fn endpoint(vendor: Vendor, id: &[u8]) -> &'static EndpointSpec {
    let table = meetkit::vendors::endpoints(vendor);
    table.iter().find(|e| e.id.as_bytes() == id).unwrap_or(&table[id.len() % table.len()])
}

/// The first line of `data` and the rest.
pub fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Splits an envelope input `[status byte][endpoint id]\n[body...]` into (status, endpoint
/// id, body); the status byte indexes [`STATUSES`] (`0` is 200).
pub fn split(data: &[u8]) -> Option<(u16, &[u8], &[u8])> {
    let (&s, rest) = data.split_first()?;
    let (id, body) = line(rest);
    Some((STATUSES[usize::from(s) % STATUSES.len()], id, body))
}

/// A response with `status`, a JSON content type and `body`.
pub fn response(status: u16, body: &[u8]) -> RawResponse {
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    RawResponse { status, headers, body: Bytes::copy_from_slice(body) }
}

/// Every error a decoder returns must render (Display and Debug) without panicking.
pub fn render(e: &meetkit::Error) {
    let _ = e.to_string();
    let _ = format!("{e:?}");
}
