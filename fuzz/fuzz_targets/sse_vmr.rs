//! The vmr event-stream (SSE) parser and event decoding. The first byte sets where the input
//! is cut into chunks; whatever the cuts, the parser must dispatch the same events as when
//! it is fed the whole input at once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meetkit::vendors::vmr::event::{payload, VmrEvent};
use meetkit::vendors::vmr::sse::SseParser;

fuzz_target!(|data: &[u8]| {
    let Some((&step, stream)) = data.split_first() else { return };
    let mut whole = SseParser::new();
    let expected = whole.feed(stream);

    let step = usize::from(step % 16) + 1;
    let mut chunked = SseParser::new();
    let mut got = Vec::new();
    for chunk in stream.chunks(step) {
        got.extend(chunked.feed(chunk));
    }
    assert_eq!(expected, got, "chunking changed the events");
    assert_eq!(whole.last_id(), chunked.last_id());
    assert_eq!(whole.retry(), chunked.retry());

    for message in expected {
        let _ = VmrEvent::parse(&message.event, payload(&message.data));
    }
    chunked.reset();
    let _ = chunked.feed(stream);
});
