//! INTERIM (being replaced by the real downloader right now): API shape only so the crate compiles.
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options.
#[derive(Default)]
pub struct DownloadOptions {
    /// see real
    pub file_name: Option<String>,
    /// see real
    pub expected_size: Option<u64>,
    /// see real
    pub expected_md5: Option<String>,
    /// see real
    pub max_resumes: u32,
    /// see real
    pub overwrite: bool,
    /// see real
    pub progress: Option<Arc<dyn Fn(Progress) -> bool + Send + Sync>>,
    /// see real
    pub cancel: Option<tokio_util::sync::CancellationToken>,
    /// see real
    pub vendor: Option<crate::Vendor>,
}
/// Progress.
#[derive(Debug, Clone)]
pub struct Progress {
    /// f
    pub file_name: String,
    /// d
    pub downloaded: u64,
    /// t
    pub total: Option<u64>,
    /// r
    pub resumed: u32,
}
/// Done.
#[derive(Debug)]
pub struct Downloaded {
    /// p
    pub path: PathBuf,
    /// b
    pub bytes: u64,
    /// m
    pub md5: String,
    /// r
    pub resumed: u32,
}
/// Download.
pub async fn download(http: &reqwest::Client, url: &str, dir: &Path, _o: DownloadOptions) -> crate::Result<Downloaded> {
    let body = http.get(url).send().await.unwrap().bytes().await.unwrap();
    let name = url.rsplit('/').next().unwrap_or("f").to_string();
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, &body).unwrap();
    Ok(Downloaded { path, bytes: body.len() as u64, md5: String::new(), resumed: 0 })
}
