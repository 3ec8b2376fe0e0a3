//! Starting the real stack: an S3-compatible storage server (`s3s-fs`) holding a
//! bucket directory, and a proxy with the filter in front of it: Envoy,
//! rendered from `envoy/envoy.yaml`, or nginx with Kong's ngx_wasm_module,
//! rendered from `nginx/nginx.conf`, with this run's ports and paths.
//!
//! Shared by `cargo xtask` (`demo`, `soak`, `bench`, `calibrate`) and
//! the end-to-end tests (`envoy_e2e`, `deploy_examples`) through this crate.
//! Everything started here is killed when the [`Stack`] is dropped.

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
    /// nginx and the ngx_wasm_module it loads (`None`: only Envoy stacks).
    pub nginx: Option<NginxTools>,
}

/// Debian's nginx and the ngx_wasm_module built for it (`cargo xtask`).
#[derive(Debug, Clone)]
pub struct NginxTools {
    pub nginx: PathBuf,
    pub module: PathBuf,
}

/// The proxy that runs the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHost {
    /// Envoy with the V8 runtime, config from `envoy/envoy.yaml`.
    Envoy,
    /// nginx with ngx_wasm_module (wasmtime), config from `nginx/nginx.conf`.
    Nginx,
}

impl ProxyHost {
    pub fn name(self) -> &'static str {
        match self {
            ProxyHost::Envoy => "envoy",
            ProxyHost::Nginx => "nginx",
        }
    }

    /// The config template users copy, relative to the repository root.
    pub fn template(self) -> &'static str {
        match self {
            ProxyHost::Envoy => "envoy/envoy.yaml",
            ProxyHost::Nginx => "nginx/nginx.conf",
        }
    }
}

/// How to start a stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Which proxy runs the filter.
    pub host: ProxyHost,
    /// The proxy's config template (`envoy/envoy.yaml` or `nginx/nginx.conf`).
    pub config_template: PathBuf,
    /// Listener port; 0 picks a free one.
    pub listen_port: u16,
    /// Directory served as bucket `demo`.
    pub bucket_dir: PathBuf,
    /// Where logs and the rendered config go.
    pub work_dir: PathBuf,
    /// Envoy worker threads, or nginx worker processes.
    pub concurrency: u32,
    /// Text replacements applied to the rendered config (e.g. plugin settings);
    /// each `from` must occur in the template.
    pub replacements: Vec<(String, String)>,
}

/// A running storage server and proxy.
pub struct Stack {
    children: Vec<Child>,
    pub host: ProxyHost,
    /// HTTP/1.1 and (Envoy) HTTP/2 with prior knowledge.
    pub listen_port: u16,
    /// HTTP/2 with prior knowledge: Envoy's listener serves both on one port;
    /// nginx 1.22 needs a port of its own (`listen ... http2` without TLS
    /// takes HTTP/2 only).
    pub h2_port: u16,
    /// Envoy's admin interface (none on nginx: 0).
    pub admin_port: u16,
    pub storage_port: u16,
    /// The storage server's log: one debug line per request it received.
    pub storage_log: PathBuf,
    /// Envoy's log, or nginx's error log.
    pub proxy_log: PathBuf,
}

/// What in nginx's error log means the filter or a worker went wrong: a
/// trap or panic in the VM is logged `[crit]`/`[error]` with "panicked" or a
/// wasm backtrace; a crashed worker "exited on signal".
pub const NGINX_TROUBLE: &[&str] = &[
    "[alert]",
    "[emerg]",
    "[crit]",
    "panicked at",
    "wasm trap",
    "exited on signal",
];

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

/// The ports an nginx stack uses.
pub struct NginxPorts {
    /// HTTP/1.1 listener.
    pub listen: u16,
    /// HTTP/2 (prior knowledge) listener.
    pub h2: u16,
    /// The storage server nginx proxies to.
    pub storage: u16,
}

/// Renders the nginx config template with this stack's ports and paths:
/// listen 8080 (HTTP/1.1) and 8443 (HTTP/2 prior knowledge), storage
/// 127.0.0.1:9000, the module and the `.wasm`, and the worker count.
pub fn render_nginx_conf(
    template: &str,
    ports: &NginxPorts,
    tools: &NginxTools,
    wasm: &Path,
    workers: u32,
    replacements: &[(String, String)],
) -> Result<String, String> {
    let mut out = template.to_string();
    let mut swap = |from: &str, to: &str| -> Result<(), String> {
        if !out.contains(from) {
            return Err(format!("nginx template has no '{from}'"));
        }
        out = out.replace(from, to);
        Ok(())
    };
    swap(
        "listen 127.0.0.1:8080;",
        &format!("listen 127.0.0.1:{};", ports.listen),
    )?;
    swap(
        "listen 127.0.0.1:8443 http2;",
        &format!("listen 127.0.0.1:{} http2;", ports.h2),
    )?;
    swap("127.0.0.1:9000", &format!("127.0.0.1:{}", ports.storage))?;
    swap(
        "load_module /usr/lib/nginx/modules/ngx_wasmx_module.so;",
        &format!("load_module {};", tools.module.display()),
    )?;
    swap(
        " dist/image_process_filter.wasm;",
        &format!(" {};", wasm.display()),
    )?;
    swap(
        "worker_processes 2;",
        &format!("worker_processes {workers};"),
    )?;
    for (from, to) in replacements {
        swap(from, to)?;
    }
    Ok(out)
}

impl Stack {
    pub fn start(tools: &Tools, opts: &StackOptions) -> Result<Stack, String> {
        Stack::start_with_wasm_log(tools, opts, "info")
    }

    /// [`Stack::start`] with Envoy's `wasm` log component at `level`
    /// (`debug` shows the filter's debug lines when its `log_level` lets them
    /// out); nginx logs at its config's `error_log` level whatever this says.
    pub fn start_with_wasm_log(
        tools: &Tools,
        opts: &StackOptions,
        level: &str,
    ) -> Result<Stack, String> {
        fs::create_dir_all(&opts.work_dir)
            .map_err(|e| format!("{}: {e}", opts.work_dir.display()))?;
        let listen_port = if opts.listen_port == 0 {
            free_port()
        } else {
            opts.listen_port
        };
        let (admin_port, h2_port) = match opts.host {
            ProxyHost::Envoy => (free_port(), listen_port),
            ProxyHost::Nginx => (0, free_port()),
        };
        let storage_port = free_port();
        let mut stack = Stack {
            children: Vec::new(),
            host: opts.host,
            listen_port,
            h2_port,
            admin_port,
            storage_port,
            storage_log: opts.work_dir.join("storage.log"),
            proxy_log: opts.work_dir.join(match opts.host {
                ProxyHost::Envoy => "envoy.log",
                // nginx.conf's error_log (relative to the prefix).
                ProxyHost::Nginx => "logs/error.log",
            }),
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

        let template = fs::read_to_string(&opts.config_template)
            .map_err(|e| format!("{}: {e}", opts.config_template.display()))?;
        let wasm =
            fs::canonicalize(&tools.wasm).map_err(|e| format!("{}: {e}", tools.wasm.display()))?;
        // A port picked free can be taken before the proxy binds it: then
        // pick others and try again (only for ports the stack chose).
        let mut attempt = 1;
        loop {
            let started = match opts.host {
                ProxyHost::Envoy => stack.start_envoy(tools, opts, &template, &wasm, level),
                ProxyHost::Nginx => stack.start_nginx(tools, opts, &template, &wasm),
            };
            match started {
                Ok(()) => return Ok(stack),
                Err(e) if attempt < 3 && e.contains("Address already in use") => {
                    attempt += 1;
                    if opts.listen_port == 0 {
                        stack.listen_port = free_port();
                    }
                    match opts.host {
                        ProxyHost::Envoy => {
                            stack.admin_port = free_port();
                            stack.h2_port = stack.listen_port;
                        }
                        ProxyHost::Nginx => stack.h2_port = free_port(),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Envoy rendered from the template into the work directory; ready
    /// once its admin interface says LIVE.
    fn start_envoy(
        &mut self,
        tools: &Tools,
        opts: &StackOptions,
        template: &str,
        wasm: &Path,
        wasm_log_level: &str,
    ) -> Result<(), String> {
        let yaml = render_envoy_yaml(
            template,
            self.listen_port,
            self.admin_port,
            self.storage_port,
            wasm,
            &opts.replacements,
        )?;
        let config = opts.work_dir.join("envoy.yaml");
        fs::write(&config, yaml).map_err(|e| e.to_string())?;
        let log = fs::File::create(&self.proxy_log).map_err(|e| e.to_string())?;
        let child = Command::new(&tools.envoy)
            .arg("-c")
            .arg(&config)
            .args(["--concurrency", &opts.concurrency.to_string()])
            .args(["--base-id", &self.listen_port.to_string()])
            .args(["--log-level", "warn", "--component-log-level"])
            .arg(format!("wasm:{wasm_log_level}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", tools.envoy.display()))?;
        self.children.push(child);
        self.wait_envoy_ready(Duration::from_secs(60))
    }

    /// nginx with the module, rendered from the template into the work
    /// directory (its prefix: logs, pid file); runs in the foreground.
    fn start_nginx(
        &mut self,
        tools: &Tools,
        opts: &StackOptions,
        template: &str,
        wasm: &Path,
    ) -> Result<(), String> {
        let nginx = tools
            .nginx
            .as_ref()
            .ok_or("this stack needs nginx with ngx_wasm_module (cargo xtask builds it)")?;
        let module = fs::canonicalize(&nginx.module)
            .map_err(|e| format!("{}: {e}", nginx.module.display()))?;
        let nginx = NginxTools {
            nginx: nginx.nginx.clone(),
            module,
        };
        let conf = render_nginx_conf(
            template,
            &NginxPorts {
                listen: self.listen_port,
                h2: self.h2_port,
                storage: self.storage_port,
            },
            &nginx,
            wasm,
            opts.concurrency,
            &opts.replacements,
        )?;
        let prefix = fs::canonicalize(&opts.work_dir).map_err(|e| e.to_string())?;
        fs::create_dir_all(prefix.join("logs")).map_err(|e| e.to_string())?;
        let config = prefix.join("nginx.conf");
        fs::write(&config, conf).map_err(|e| e.to_string())?;
        // nginx writes its pid file once its listening sockets are bound: a
        // connect alone could reach another process that holds the port.
        let pid_file = prefix.join("logs/nginx.pid");
        let _ = fs::remove_file(&pid_file);
        let log = fs::File::create(&self.proxy_log).map_err(|e| e.to_string())?;
        let child = Command::new(&nginx.nginx)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&config)
            .arg("-e")
            .arg(&self.proxy_log)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", nginx.nginx.display()))?;
        self.children.push(child);
        let start = Instant::now();
        let limit = Duration::from_secs(30);
        for port in [self.listen_port, self.h2_port] {
            loop {
                if let Some(child) = self.children.last_mut() {
                    if let Ok(Some(status)) = child.try_wait() {
                        let log = fs::read_to_string(&self.proxy_log).unwrap_or_default();
                        self.children.pop();
                        return Err(format!("nginx exited with {status}:\n{log}"));
                    }
                }
                if pid_file.exists() && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    break;
                }
                if start.elapsed() > limit {
                    return Err(format!("nginx was not listening after {limit:?}"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // Each worker compiles the module when it starts (wasmtime, seconds
        // for this filter) and accepts nothing meanwhile, so a connection
        // that succeeds may still wait: ready once every worker has logged
        // the filter's configuration (the log level of nginx.conf is info).
        let limit = Duration::from_secs(120);
        loop {
            let log = fs::read_to_string(&self.proxy_log).unwrap_or_default();
            // Distinct workers (a worker may log it more than once):
            // "2026/12/06 01:39:05 [info] 19140#19140: [proxy-wasm]...".
            let configured = log
                .lines()
                .filter(|l| l.contains("] image-process-filter ") && l.contains(" configured: "))
                .filter_map(|l| l.split_whitespace().nth(3))
                .collect::<std::collections::HashSet<_>>()
                .len();
            if configured >= opts.concurrency as usize {
                return Ok(());
            }
            // A worker whose filter refused its configuration exits "with
            // fatal code 2 and cannot be respawned"; the master keeps the
            // port open with no worker to accept on it.
            if log.contains("cannot be respawned") {
                return Err(format!(
                    "an nginx worker could not start (the master keeps running without it):\n{log}"
                ));
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "{configured} of {} nginx workers configured the filter after {limit:?}:\n{log}",
                    opts.concurrency
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<listen port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.listen_port)
    }

    /// GETs a path from Envoy's admin interface (nginx has none).
    pub fn admin_get(&self, path: &str) -> Result<String, String> {
        if self.host != ProxyHost::Envoy {
            return Err(format!("{} has no admin interface", self.host.name()));
        }
        http_get(self.admin_port, path)
    }

    /// The lines of nginx's error log that mean the filter or a worker went
    /// wrong ([`NGINX_TROUBLE`]); none on Envoy.
    pub fn nginx_trouble(&self) -> Vec<String> {
        if self.host != ProxyHost::Nginx {
            return Vec::new();
        }
        fs::read_to_string(&self.proxy_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| NGINX_TROUBLE.iter().any(|t| l.contains(t)))
            .map(str::to_string)
            .collect()
    }

    /// The pids of nginx's worker processes (children of the master).
    pub fn nginx_worker_pids(&self) -> Vec<u32> {
        let Some(master) = self.proxy_pid() else {
            return Vec::new();
        };
        let children = format!("/proc/{master}/task/{master}/children");
        fs::read_to_string(children)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    fn wait_envoy_ready(&mut self, limit: Duration) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(child) = self.children.last_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = fs::read_to_string(&self.proxy_log).unwrap_or_default();
                    self.children.pop();
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

    /// The proxy's process id: Envoy's, or nginx's master (for memory
    /// readings from `/proc`).
    pub fn proxy_pid(&self) -> Option<u32> {
        self.children.get(1).map(Child::id)
    }

    /// Whether every process is still running.
    pub fn all_running(&mut self) -> bool {
        self.children
            .iter_mut()
            .all(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Stops everything (also done on drop).
    pub fn stop(&mut self) {
        // nginx's workers outlive a killed master: note them first, and kill
        // any left at the end (a worker stuck in a busy loop ignores SIGTERM).
        let workers = if self.host == ProxyHost::Nginx {
            self.nginx_worker_pids()
        } else {
            Vec::new()
        };
        for child in self.children.iter_mut().rev() {
            if matches!(child.try_wait(), Ok(Some(_))) {
                continue; // already gone (e.g. Envoy refused its config)
            }
            // SIGTERM first so the proxy and s3s-fs shut down cleanly (nginx's
            // master stops its workers), then make sure.
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
        for pid in workers {
            if Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
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
