//! Starting the real stack: an S3-compatible storage server (`s3s-fs`) holding a
//! bucket directory, and Envoy with the filter in front of it, rendered from
//! `envoy/envoy.yaml` with this run's ports and paths.
//!
//! Shared by `cargo xtask demo` and the end-to-end tests (included with
//! `#[path]`, so neither crate depends on the other). Everything started here is
//! killed when the [`Stack`] is dropped.

#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The storage upstream is private: s3s-fs checks SigV4 with this key, and the
/// filter (config in `envoy/envoy.yaml`) signs what it sends upstream with it.
/// The demo's clients use the same pair (`credentials` in the plugin config).
pub const DEMO_ACCESS_KEY: &str = "demo-ak";
pub const DEMO_SECRET_KEY: &str = "demo-sk";

/// Paths of the parts the stack runs.
#[derive(Debug, Clone)]
pub struct Tools {
    pub envoy: PathBuf,
    pub s3s_fs: PathBuf,
    pub wasm: PathBuf,
}

/// How to start a stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The Envoy config template (`envoy/envoy.yaml`).
    pub envoy_template: PathBuf,
    /// Listener port; 0 picks a free one.
    pub listen_port: u16,
    /// Directory served as bucket `demo`.
    pub bucket_dir: PathBuf,
    /// Where logs and the rendered config go.
    pub work_dir: PathBuf,
    /// Envoy worker threads.
    pub concurrency: u32,
    /// Text replacements applied to the rendered config (e.g. plugin settings);
    /// each `from` must occur in the template.
    pub replacements: Vec<(String, String)>,
}

/// A running storage server and Envoy.
pub struct Stack {
    children: Vec<Child>,
    pub listen_port: u16,
    pub admin_port: u16,
    pub storage_port: u16,
    /// The storage server's log: one debug line per request it received.
    pub storage_log: PathBuf,
    pub envoy_log: PathBuf,
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Renders the Envoy config template with this stack's ports and wasm path.
pub fn render_envoy_yaml(
    template: &str,
    listen: u16,
    admin: u16,
    storage: u16,
    wasm: &Path,
    replacements: &[(String, String)],
) -> Result<String, String> {
    let mut out = template.to_string();
    let mut swap = |from: &str, to: &str| -> Result<(), String> {
        if !out.contains(from) {
            return Err(format!("envoy template has no '{from}'"));
        }
        out = out.replace(from, to);
        Ok(())
    };
    swap("port_value: 8080", &format!("port_value: {listen}"))?;
    swap("port_value: 9901", &format!("port_value: {admin}"))?;
    swap("port_value: 9000", &format!("port_value: {storage}"))?;
    swap(
        "filename: dist/image_process_filter.wasm",
        &format!("filename: {}", wasm.display()),
    )?;
    for (from, to) in replacements {
        swap(from, to)?;
    }
    Ok(out)
}

impl Stack {
    pub fn start(tools: &Tools, opts: &StackOptions) -> Result<Stack, String> {
        fs::create_dir_all(&opts.work_dir)
            .map_err(|e| format!("{}: {e}", opts.work_dir.display()))?;
        let listen_port = if opts.listen_port == 0 {
            free_port()
        } else {
            opts.listen_port
        };
        let admin_port = free_port();
        let storage_port = free_port();
        let mut stack = Stack {
            children: Vec::new(),
            listen_port,
            admin_port,
            storage_port,
            storage_log: opts.work_dir.join("storage.log"),
            envoy_log: opts.work_dir.join("envoy.log"),
        };

        // s3s-fs serves ROOT/<bucket>/<key>; bucket `demo` is a link to the directory.
        let root = opts.work_dir.join("storage-root");
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let bucket_dir = fs::canonicalize(&opts.bucket_dir)
            .map_err(|e| format!("bucket directory {}: {e}", opts.bucket_dir.display()))?;
        std::os::unix::fs::symlink(&bucket_dir, root.join("demo"))
            .map_err(|e| format!("linking bucket: {e}"))?;
        let log = fs::File::create(&stack.storage_log).map_err(|e| e.to_string())?;
        let child = Command::new(&tools.s3s_fs)
            .args(["--host", "127.0.0.1", "--port", &storage_port.to_string()])
            .args([
                "--access-key",
                DEMO_ACCESS_KEY,
                "--secret-key",
                DEMO_SECRET_KEY,
            ])
            .arg(&root)
            .env("RUST_LOG", "s3s=debug,s3s_fs=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", tools.s3s_fs.display()))?;
        stack.children.push(child);
        wait_for_port(storage_port, Duration::from_secs(20))
            .map_err(|e| format!("storage server: {e}"))?;

        let template = fs::read_to_string(&opts.envoy_template)
            .map_err(|e| format!("{}: {e}", opts.envoy_template.display()))?;
        let wasm =
            fs::canonicalize(&tools.wasm).map_err(|e| format!("{}: {e}", tools.wasm.display()))?;
        let yaml = render_envoy_yaml(
            &template,
            listen_port,
            admin_port,
            storage_port,
            &wasm,
            &opts.replacements,
        )?;
        let config = opts.work_dir.join("envoy.yaml");
        fs::write(&config, yaml).map_err(|e| e.to_string())?;
        let log = fs::File::create(&stack.envoy_log).map_err(|e| e.to_string())?;
        let child = Command::new(&tools.envoy)
            .arg("-c")
            .arg(&config)
            .args(["--concurrency", &opts.concurrency.to_string()])
            .args(["--base-id", &listen_port.to_string()])
            .args(["--log-level", "warn", "--component-log-level", "wasm:info"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", tools.envoy.display()))?;
        stack.children.push(child);
        stack.wait_envoy_ready(Duration::from_secs(60))?;
        Ok(stack)
    }

    /// `http://127.0.0.1:<listen port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.listen_port)
    }

    /// GETs a path from Envoy's admin interface.
    pub fn admin_get(&self, path: &str) -> Result<String, String> {
        http_get(self.admin_port, path)
    }

    fn wait_envoy_ready(&mut self, limit: Duration) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(child) = self.children.last_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = fs::read_to_string(&self.envoy_log).unwrap_or_default();
                    return Err(format!("envoy exited with {status}:\n{log}"));
                }
            }
            if http_get(self.admin_port, "/ready").is_ok_and(|b| b.contains("LIVE")) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("envoy was not ready after {limit:?}"))
    }

    /// Whether every process is still running.
    pub fn all_running(&mut self) -> bool {
        self.children
            .iter_mut()
            .all(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Stops everything (also done on drop).
    pub fn stop(&mut self) {
        for child in self.children.iter_mut().rev() {
            if matches!(child.try_wait(), Ok(Some(_))) {
                continue; // already gone (e.g. Envoy refused its config)
            }
            // SIGTERM first so Envoy and s3s-fs shut down cleanly, then make sure.
            let _ = Command::new("kill")
                .arg(child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_for_port(port: u16, limit: Duration) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on port {port} after {limit:?}"))
}

/// A minimal HTTP/1.1 GET to 127.0.0.1 (for readiness and admin checks only;
/// tests drive the filter with curl).
fn http_get(port: u16, path: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    match out.split_once("\r\n\r\n") {
        Some((head, body))
            if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") =>
        {
            Ok(body.to_string())
        }
        _ => Err(format!(
            "admin {path}: {}",
            out.lines().next().unwrap_or_default()
        )),
    }
}
