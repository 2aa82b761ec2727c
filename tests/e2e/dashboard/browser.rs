//! A headless Chromium driven over the DevTools protocol: launch, open a
//! page, evaluate JavaScript, wait for a condition, take a screenshot, and
//! collect every console error, uncaught exception and failed load.
//!
//! The protocol is JSON over a WebSocket; the handful of commands these
//! tests use are sent with the `tungstenite` client the `/ws` tests use
//! anyway. A driver crate (chromiumoxide, headless_chrome) would compile
//! the whole generated protocol, minutes on CI's two cores, for five calls.
//!
//! The browser is Debian's `chromium` (`scripts/install-browser.sh`; or
//! `SANDBAR_CHROMIUM=/path`). Without one the tests say so loudly and pass
//! on a developer machine; with `CI` set a missing browser fails them.

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// The longest any one protocol command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    /// Console errors, uncaught exceptions and failed loads, as they came.
    errors: Vec<String>,
    _profile: tempfile::TempDir,
}

/// Where the browser is: `SANDBAR_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SANDBAR_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The browser, or `None` (after a loud message) on a machine without one.
/// Under CI a missing browser is a failure: the install script provides it.
pub fn launch_or_skip(test: &str) -> Option<Browser> {
    let Some(path) = find() else {
        let message = format!(
            "no Chromium found for {test}: install Debian's `chromium` (bash scripts/install-browser.sh) or set SANDBAR_CHROMIUM"
        );
        if std::env::var_os("CI").is_some() {
            panic!("{message} (CI is set: the browser tests must run)");
        }
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
        return None;
    };
    Some(
        Browser::launch(&path).unwrap_or_else(|e| panic!("cannot drive {}: {e:#}", path.display())),
    )
}

impl Browser {
    pub fn launch(path: &Path) -> anyhow::Result<Browser> {
        let profile = tempfile::tempdir()?;
        let mut child = Command::new(path)
            .args([
                "--headless",
                "--no-sandbox", // root in a container has no user namespace for it
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-port=0",
                "--window-size=1440,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", path.display()))?;
        let stderr = child.stderr.take().context("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Read stderr to the end so the browser never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                bail!("the browser did not print its DevTools address within 60 s");
            }
        };
        let host = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| anyhow!("unexpected DevTools address {url}"))?;
        let stream = TcpStream::connect(host)?;
        let (socket, _) = tungstenite::client(url.as_str(), stream)
            .map_err(|e| anyhow!("DevTools handshake: {e}"))?;
        // Short reads from here on, so waiting for an answer can time out.
        socket
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            errors: Vec::new(),
            _profile: profile,
        };
        let target =
            browser.call_browser("Target.createTarget", json!({ "url": "about:blank" }))?;
        let target_id = target["targetId"]
            .as_str()
            .context("no targetId")?
            .to_owned();
        let attached = browser.call_browser(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        )?;
        browser.session = attached["sessionId"]
            .as_str()
            .context("no sessionId")?
            .to_owned();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(domain, json!({}))?;
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1440, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        Ok(browser)
    }

    fn call_browser(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.send(method, params, None)
    }

    /// A command to the page; its result.
    pub fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    fn send(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::Text(command.to_string().into()))
            .map_err(|e| anyhow!("{method}: {e}"))?;
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            if Instant::now() > deadline {
                bail!("{method}: no answer within {COMMAND_TIMEOUT:?}");
            }
            let Some(message) = self.read()? else {
                continue;
            };
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    bail!("{method}: {error}");
                }
                return Ok(message["result"].clone());
            }
            self.observe(&message);
        }
    }

    /// One protocol message, or `None` if none came within the read timeout.
    fn read(&mut self) -> anyhow::Result<Option<Value>> {
        match self.socket.read() {
            Ok(Message::Text(text)) => Ok(Some(serde_json::from_str(text.as_str())?)),
            Ok(_) => Ok(None),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(anyhow!("DevTools connection: {e}")),
        }
    }

    /// Notes the events that say something went wrong in the page.
    fn observe(&mut self, message: &Value) {
        let params = &message["params"];
        match message["method"].as_str() {
            Some("Runtime.consoleAPICalled") if params["type"] == "error" => {
                let args: Vec<String> = params["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        a["value"]
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| a["description"].to_string())
                    })
                    .collect();
                self.errors
                    .push(format!("console.error: {}", args.join(" ")));
            }
            Some("Runtime.exceptionThrown") => {
                let details = &params["exceptionDetails"];
                let text = details["exception"]["description"]
                    .as_str()
                    .or(details["text"].as_str())
                    .unwrap_or("?");
                self.errors.push(format!("uncaught: {text}"));
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                let entry = &params["entry"];
                self.errors.push(format!(
                    "{}: {} {}",
                    entry["source"].as_str().unwrap_or("log"),
                    entry["text"].as_str().unwrap_or(""),
                    entry["url"].as_str().unwrap_or("")
                ));
            }
            _ => {}
        }
    }

    /// Opens `url` and waits for its `load` event.
    pub fn open(&mut self, url: &str) -> anyhow::Result<()> {
        self.call("Page.navigate", json!({ "url": url }))?;
        self.wait_for(
            "document.readyState === 'complete'",
            Duration::from_secs(30),
        )?;
        Ok(())
    }

    /// The value of a JavaScript expression (promises awaited).
    pub fn eval(&mut self, expression: &str) -> anyhow::Result<Value> {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(exception) = result.get("exceptionDetails") {
            bail!("{expression}: {exception}");
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `expression` until it is truthy; its value, or an error naming it.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(expression)?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(value);
            }
            if Instant::now() > deadline {
                bail!("`{expression}` still false after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Errors seen so far (the page's pending events read first).
    pub fn errors(&mut self) -> Vec<String> {
        let _ = self.eval("0");
        self.errors.clone()
    }

    /// A PNG of the whole page at 1440 px wide, written to `path`.
    pub fn screenshot(&mut self, path: &Path) -> anyhow::Result<()> {
        let height = self
            .eval("Math.ceil(document.documentElement.scrollHeight)")?
            .as_u64()
            .unwrap_or(1000)
            .clamp(600, 4000);
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1440, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        // One frame for the layout at the new size.
        self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")?;
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }))?;
        let data = shot["data"].as_str().context("no screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD.decode(data)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1440, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
