//! The fleet (issue 20) against a real `nats-server` (JetStream, started by
//! the tests on a free loopback port with a temporary store, killed at the
//! end): publish and deploy reach nodes through the same pipeline as a
//! config edit; a node starts from its last applied deployments when NATS
//! is unreachable and catches up; a NATS restart loses no bar; a missing or
//! tampered artefact is rejected while the old version runs on; a node cut
//! off during a deploy shows as drift, then converges; two concurrent
//! deploys on one key: exactly one wins.

mod nats;

use crate::support::{audit_reports, component, read_jsonl, rebuilt, sha};
use nats::{NatsServer, Proxy};
use sandbar_runtime::Loader;
use sandbar_runtime::config::Config;
use sandbar_runtime::contract::Bar;
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::fleet::{
    DeployRequest, Deployment, Expect, FleetClient, FleetError, FleetSettings, NodeAgent,
};
use sandbar_runtime::live::{
    Event, EventSubscription, FeedMode, LiveOptions, Outcome, ReloadEvent, Runtime, Trigger,
};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const FLEET: &str = "t";
const WAIT: Duration = Duration::from_secs(30);

/// One loader for every node of the test binary: a second node loading the
/// same build hits the compile cache, as a fleet of machines with the
/// artefact cache would.
fn loader() -> Arc<Loader> {
    static LOADER: OnceLock<Arc<Loader>> = OnceLock::new();
    Arc::clone(LOADER.get_or_init(|| Arc::new(Loader::new().unwrap())))
}

fn operator(url: &str) -> FleetClient {
    // A server that just (re)started may take a moment to serve JetStream.
    let deadline = Instant::now() + WAIT;
    loop {
        match FleetClient::connect(&FleetSettings::client(url, FLEET)) {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                eprintln!("operator not connected yet: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the operator cannot connect: {e}"),
        }
    }
}

fn audit_bytes() -> Vec<u8> {
    std::fs::read(component("seq-audit")).unwrap()
}

fn deploy(op: &FleetClient, id: &str, sha256: &str) -> u64 {
    let mut deployment = Deployment::new(id, sha256);
    deployment.set_param("report_every=50").unwrap();
    op.deploy(&DeployRequest {
        deployment,
        expect: Expect::Current,
    })
    .unwrap_or_else(|e| panic!("deploy {id}: {e}"))
}

/// A node: its own directory (config, `dist/`, journal, state file), a
/// runtime with a manual feed, and its fleet agent.
struct Node {
    name: String,
    dir: tempfile::TempDir,
    runtime: Option<Runtime>,
    agent: Option<NodeAgent>,
    events: Option<EventSubscription>,
    feed: SyntheticFeed,
    fed: u64,
}

impl Node {
    /// `local` is extra config text (a local `[[strategy]]`, say).
    fn new(name: &str, url: &str, local: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::copy(component("seq-audit"), dir.path().join("dist/audit.wasm")).unwrap();
        let node = Node {
            name: name.to_owned(),
            dir,
            runtime: None,
            agent: None,
            events: None,
            feed: SyntheticFeed::new(1, 11, MarketStyle::Regimes, 60_000),
            fed: 0,
        };
        node.write_config(url, local);
        node
    }

    fn write_config(&self, url: &str, local: &str) {
        let text = format!(
            r#"profile = "dev"
[runtime]
strategies_dir = "dist"
history_bars = 64
[hot_reload]
debounce_ms = 50
[feed]
symbols = ["TEST"]
interval_ms = 0
[fleet]
url = "{url}"
node = "{name}"
fleet = "{FLEET}"
heartbeat_ms = 100
labels = {{ role = "{name}" }}
{local}
"#,
            name = self.name
        );
        std::fs::write(self.dir.path().join("sandbar.toml"), text).unwrap();
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn start(&mut self) -> anyhow::Result<()> {
        let config_path = self.path("sandbar.toml");
        let config = Config::from_file(&config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (runtime, agent) = NodeAgent::start_runtime(
            config,
            LiveOptions {
                config_path: Some(config_path),
                journal_dir: Some(self.path("journal")),
                feed: FeedMode::Manual,
                watch: true,
                rescan: true,
            },
            loader(),
        )?;
        self.events = Some(runtime.subscribe());
        // `fed` counts the bars this runtime was given (what
        // `wait_for_bars` compares with); the feed itself goes on.
        self.fed = 0;
        self.runtime = Some(runtime);
        self.agent = Some(agent);
        Ok(())
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().expect("started")
    }

    fn agent(&self) -> &NodeAgent {
        self.agent.as_ref().expect("started")
    }

    fn bar(&mut self) -> Bar {
        self.fed += 1;
        self.feed.next_bar()
    }

    fn feed(&mut self, n: u64) {
        for _ in 0..n {
            let bar = self.bar();
            self.runtime().push_bar(bar).unwrap();
        }
        assert!(
            self.runtime().wait_for_bars(self.fed, WAIT),
            "{}: bars not processed",
            self.name
        );
    }

    /// Feeds a bar every few ms until a reload event matches.
    fn feed_until(&mut self, what: &str, pred: impl Fn(&ReloadEvent) -> bool) -> ReloadEvent {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            self.feed(1);
            std::thread::sleep(Duration::from_millis(10));
            while let Ok(event) = self.events.as_ref().unwrap().try_recv() {
                match event {
                    Event::Reload(e) if pred(&e) => return e,
                    other => seen.push(other),
                }
            }
        }
        panic!("{}: no reload event for {what}; saw {seen:#?}", self.name);
    }

    fn swapped_to(&mut self, id: &str, sha256: &str) -> ReloadEvent {
        self.feed_until(&format!("{id} swapped to {sha256}"), |e| {
            e.strategy == id && e.outcome == Outcome::Swapped && e.sha256.as_deref() == Some(sha256)
        })
    }

    fn live_sha(&self, id: &str) -> Option<String> {
        self.runtime().generation(id).map(|g| g.sha256().to_owned())
    }

    /// Stops the agent, then the runtime; returns the journal's orders.
    fn stop(&mut self) -> Vec<serde_json::Value> {
        if let Some(agent) = self.agent.take() {
            agent.stop();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.stop();
        }
        read_jsonl(&self.path("journal/orders.jsonl"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn store() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn issue_20_publish_deploy_rollback_undeploy_through_the_config_pipeline() {
    let store = store();
    let server = NatsServer::start(store.path());
    let op = operator(&server.url());
    let v1 = audit_bytes();
    let v2 = rebuilt(&v1, 1);
    let (sha1, uploaded) = op.publish(&v1).unwrap();
    assert!(uploaded);
    assert_eq!(sha1, sha(&v1));
    assert_eq!(
        op.publish(&v1).unwrap(),
        (sha1.clone(), false),
        "the same bytes twice: a no-op"
    );
    let (sha2, _) = op.publish(&v2).unwrap();
    assert_eq!(op.download(&sha2).unwrap(), v2);

    let mut node = Node::new("n1", &server.url(), "");
    node.start().unwrap();
    let mut events = op.subscribe_events().unwrap();
    let r1 = deploy(&op, "fa", &sha1);
    let first = node.swapped_to("fa", &sha1);
    assert_eq!(first.trigger, Trigger::Fleet);
    assert!(
        node.path(&format!("dist/fleet/{sha1}.wasm")).is_file(),
        "downloaded into the strategies dir"
    );
    let r2 = deploy(&op, "fa", &sha2);
    assert!(r2 > r1);
    node.swapped_to("fa", &sha2);
    wait_until("the node recorded the revision", || {
        node.agent().applied_revision() >= r2
    });

    // The event stream carries the node's reloads under its own subject.
    let mut reloads = Vec::new();
    while let Some((subject, payload)) = events.next(Duration::from_secs(2)) {
        let event: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        if event["event"] == "reload" && event["outcome"] == "swapped" {
            assert_eq!(subject, format!("sandbar.events.{FLEET}.n1.fa"));
            reloads.push(event["sha256"].as_str().unwrap().to_owned());
            if reloads.len() == 2 {
                break;
            }
        }
    }
    assert_eq!(reloads, [sha1.clone(), sha2.clone()]);

    let (_, back) = op.rollback("fa", 1).unwrap();
    assert_eq!(back.sha256, sha1);
    node.swapped_to("fa", &sha1);
    let err = op.rollback("fa", 9).unwrap_err();
    assert!(
        matches!(err, FleetError::NoHistory { available: 2, .. }),
        "{err}"
    );

    op.undeploy("fa").unwrap();
    node.feed_until("fa retired", |e| {
        e.strategy == "fa" && e.outcome == Outcome::Retired
    });
    assert!(node.live_sha("fa").is_none());
    node.stop();
}

#[test]
fn issue_20_nats_unreachable_at_start_runs_the_last_applied_and_catches_up() {
    let store = store();
    let mut server = NatsServer::start(store.path());
    let op = operator(&server.url());
    let v1 = audit_bytes();
    let v2 = rebuilt(&v1, 2);
    let (sha1, _) = op.publish(&v1).unwrap();
    let (sha2, _) = op.publish(&v2).unwrap();
    let mut node = Node::new("n1", &server.url(), "");
    node.start().unwrap();
    deploy(&op, "fa", &sha1);
    node.swapped_to("fa", &sha1);
    node.stop();

    // While the node is down, a new build is deployed; then NATS goes away.
    let missed = deploy(&op, "fa", &sha2);
    drop(op);
    server.stop();

    node.start().expect("starts without NATS");
    assert_eq!(
        node.live_sha("fa").as_deref(),
        Some(sha1.as_str()),
        "the last applied deployment, from disk"
    );
    assert!(!node.agent().connected());
    node.feed(20);
    assert_eq!(node.live_sha("fa").as_deref(), Some(sha1.as_str()));

    server.restart();
    node.swapped_to("fa", &sha2);
    assert!(node.agent().connected());
    wait_until("the missed revision is applied", || {
        node.agent().applied_revision() >= missed
    });
    node.stop();
}

#[test]
fn issue_20_nats_restarted_mid_run_loses_no_bar_and_resumes_the_watch() {
    let store = store();
    let mut server = NatsServer::start(store.path());
    let op = operator(&server.url());
    let v1 = audit_bytes();
    let v2 = rebuilt(&v1, 3);
    let (sha1, _) = op.publish(&v1).unwrap();
    let (sha2, _) = op.publish(&v2).unwrap();
    // A local strategy audits every bar; the fleet's runs beside it.
    let local = "[[strategy]]\nid = \"audit\"\nwasm = \"audit.wasm\"\n[strategy.params]\nreport_every = 50\n";
    let mut node = Node::new("n1", &server.url(), local);
    node.start().unwrap();
    deploy(&op, "fa", &sha1);
    node.swapped_to("fa", &sha1);
    drop(op);

    server.stop();
    node.feed(300); // trading goes on while NATS is down
    server.restart();
    node.feed(100);
    let op = operator(&server.url());
    deploy(&op, "fa", &sha2);
    node.swapped_to("fa", &sha2);
    node.feed(100);
    let fed = node.fed;
    let status = node.runtime().status();
    let audit = status.strategies.iter().find(|s| s.id == "audit").unwrap();
    assert_eq!(audit.bars, fed, "the local strategy saw every bar");
    let orders = node.stop();
    let (counts, anomalies) = audit_reports(&orders);
    assert_eq!(anomalies, 0, "no bar lost, repeated or out of order");
    assert_eq!(counts.last().copied(), Some(fed / 50 * 50));
    let fleet_anomalies = orders
        .iter()
        .filter(|o| o["strategy"] == "fa" && o["side"] == "sell")
        .count();
    assert_eq!(
        fleet_anomalies, 0,
        "the fleet strategy's audit across its swap"
    );
}

#[test]
fn issue_20_a_missing_or_tampered_artefact_is_rejected_and_the_old_version_keeps_running() {
    let store = store();
    let server = NatsServer::start(store.path());
    let op = operator(&server.url());
    let v1 = audit_bytes();
    let (sha1, _) = op.publish(&v1).unwrap();
    let mut node = Node::new("n1", &server.url(), "");
    node.start().unwrap();
    deploy(&op, "fa", &sha1);
    node.swapped_to("fa", &sha1);

    let never_published = sha(&rebuilt(&v1, 4));
    deploy(&op, "fa", &never_published);
    let missing = node.feed_until("a rejection of the missing artefact", |e| {
        e.strategy == "fa" && e.outcome == Outcome::Rejected
    });
    assert_eq!(missing.trigger, Trigger::Fleet);
    assert!(
        missing
            .error
            .as_deref()
            .unwrap()
            .contains("is not in the `sandbar-artifacts` store"),
        "{missing:?}"
    );
    assert!(missing.hint.as_deref().unwrap().contains("runtime publish"));
    assert_eq!(
        node.live_sha("fa").as_deref(),
        Some(sha1.as_str()),
        "the old version keeps running"
    );

    // An object whose bytes are not what its name says.
    let claimed = sha(&rebuilt(&v1, 5));
    op.put_object_unchecked(&claimed, &rebuilt(&v1, 6)).unwrap();
    deploy(&op, "fa", &claimed);
    let tampered = node.feed_until("a rejection of the tampered artefact", |e| {
        e.strategy == "fa"
            && e.outcome == Outcome::Rejected
            && e.sha256.as_deref() == Some(claimed.as_str())
    });
    assert!(
        tampered.error.as_deref().unwrap().contains("wrong digest"),
        "{tampered:?}"
    );
    assert!(
        !node.path(&format!("dist/fleet/{claimed}.wasm")).exists(),
        "nothing written"
    );
    node.feed(50);
    assert_eq!(node.live_sha("fa").as_deref(), Some(sha1.as_str()));
    assert_eq!(node.runtime().status().strategies[0].traps, 0);
    node.stop();
}

#[test]
fn issue_20_a_node_cut_off_during_a_deploy_shows_drift_then_converges() {
    let store = store();
    let server = NatsServer::start(store.path());
    let proxy = Proxy::start(server.port);
    let op = operator(&server.url());
    let v1 = audit_bytes();
    let v2 = rebuilt(&v1, 7);
    let (sha1, _) = op.publish(&v1).unwrap();
    let (sha2, _) = op.publish(&v2).unwrap();
    let mut n1 = Node::new("n1", &server.url(), "");
    let mut n2 = Node::new("n2", &proxy.url(), "");
    n1.start().unwrap();
    n2.start().unwrap();
    deploy(&op, "fa", &sha1);
    n1.swapped_to("fa", &sha1);
    n2.swapped_to("fa", &sha1);
    // The drift shown while n2 is cut off is its last heartbeat: wait for
    // one written after the swap.
    wait_until("fleet status shows both nodes on the first build", || {
        let status = op.status().unwrap();
        status.nodes.len() == 2 && status.drift.is_empty()
    });

    proxy.cut();
    wait_until("n2 notices the cut", || !n2.agent().connected());
    deploy(&op, "fa", &sha2);
    n1.swapped_to("fa", &sha2);
    n2.feed(30);
    assert_eq!(
        n2.live_sha("fa").as_deref(),
        Some(sha1.as_str()),
        "cut off: still the old build"
    );
    wait_until("fleet status shows n2 drifting", || {
        let status = op.status().unwrap();
        status.drift.iter().any(|d| {
            d.node == "n2"
                && d.desired.as_deref() == Some(sha2.as_str())
                && d.running.as_deref() == Some(sha1.as_str())
        }) && !status.drift.iter().any(|d| d.node == "n1")
    });

    proxy.restore();
    n2.swapped_to("fa", &sha2);
    wait_until("no drift", || {
        let status = op.status().unwrap();
        status.nodes.len() == 2
            && status.drift.is_empty()
            && status.nodes.iter().all(|n| {
                n.strategies
                    .iter()
                    .any(|s| s.id == "fa" && s.sha256 == sha2)
            })
    });
    n1.stop();
    n2.stop();
}

#[test]
fn issue_20_two_concurrent_deploys_on_one_key_exactly_one_wins() {
    let store = store();
    let server = NatsServer::start(store.path());
    let url = server.url();
    let op = operator(&url);
    let v1 = audit_bytes();
    let (sha1, _) = op.publish(&v1).unwrap();
    let (sha2, _) = op.publish(&rebuilt(&v1, 8)).unwrap();
    let (sha3, _) = op.publish(&rebuilt(&v1, 9)).unwrap();
    let base = deploy(&op, "fa", &sha1);
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let racers: Vec<_> = [sha2.clone(), sha3.clone()]
        .into_iter()
        .map(|sha256| {
            let (url, barrier) = (url.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let op = operator(&url);
                barrier.wait();
                op.deploy(&DeployRequest {
                    deployment: Deployment::new("fa", sha256),
                    expect: Expect::Revision(base),
                })
            })
        })
        .collect();
    let results: Vec<Result<u64, FleetError>> =
        racers.into_iter().map(|t| t.join().unwrap()).collect();
    let winners: Vec<u64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one wins: {results:?}");
    let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    match loser {
        FleetError::Conflict { current, .. } => assert_eq!(*current, winners[0]),
        other => panic!("the loser gets a conflict, not {other}"),
    }
    let text = loser.to_string();
    assert!(
        text.contains(&format!("now at revision {}", winners[0]))
            && text.contains("runtime fleet status"),
        "{text}"
    );
    let (revision, stored) = op.deployment("fa").unwrap().unwrap();
    assert_eq!(revision, winners[0]);
    assert!(stored.sha256 == sha2 || stored.sha256 == sha3);
    // A new key: `--revision 0` only creates.
    let err = op
        .deploy(&DeployRequest {
            deployment: Deployment::new("fa", sha1),
            expect: Expect::Revision(0),
        })
        .unwrap_err();
    assert!(matches!(err, FleetError::Conflict { .. }), "{err}");
}

#[test]
fn issue_20_a_fleet_id_clashing_with_a_local_strategy_is_a_start_up_error() {
    // No server needed: the clash is found in the state on disk before any connection.
    let local = "[[strategy]]\nid = \"audit\"\nwasm = \"audit.wasm\"\n";
    let mut node = Node::new("n1", "nats://127.0.0.1:9", local);
    let bytes = audit_bytes();
    let sha256 = sha(&bytes);
    std::fs::create_dir_all(node.path("dist/fleet")).unwrap();
    std::fs::write(node.path(&format!("dist/fleet/{sha256}.wasm")), &bytes).unwrap();
    let mut state = sandbar_runtime::fleet::LocalState::default();
    state
        .applied
        .insert("audit".into(), Deployment::new("audit", sha256));
    state.save(&node.path("fleet-state.json")).unwrap();
    let err = node.start().expect_err("refused").to_string();
    assert!(
        err.contains(
            "strategy `audit` is both a [[strategy]] of this config and a fleet deployment"
        ),
        "{err}"
    );
    assert!(err.contains("runtime undeploy audit"), "{err}");
}

/// The heartbeat TTL was fixed by whichever node created `sandbar-nodes`
/// first: a node with a longer `heartbeat_ms` dropped out of the status
/// between its beats. Each node (and operator) opening the bucket now
/// raises the TTL to three of its intervals, and never lowers it.
#[test]
fn regression_20_the_heartbeat_ttl_grows_to_the_slowest_node_and_never_shrinks() {
    let store = store();
    let server = NatsServer::start(store.path());
    let opened = |heartbeat_ms: u64| {
        let mut settings = FleetSettings::client(&server.url(), FLEET);
        settings.heartbeat = Duration::from_millis(heartbeat_ms);
        let client = FleetClient::connect(&settings).unwrap();
        client.node_ttl().unwrap()
    };
    // The first opener creates the bucket: 3 × 1 s is below the 10 s floor.
    assert_eq!(opened(1000), Duration::from_secs(10));
    // A node beating every 8 s needs 24 s.
    assert_eq!(opened(8000), Duration::from_secs(24));
    // A faster node after it leaves the slow node's TTL alone.
    assert_eq!(opened(2000), Duration::from_secs(24));
    assert_eq!(opened(9000), Duration::from_secs(27));
}

/// A stopped agent left its event bridge behind: the thread stayed
/// subscribed to the runtime, forwarding every event into a closed queue,
/// and a node that started a new agent on the same runtime gained one such
/// thread each time. The bridge now ends with its agent.
#[test]
fn regression_20_a_stopped_agent_leaves_no_event_bridge_behind() {
    let store = store();
    let server = NatsServer::start(store.path());
    let local = "[[strategy]]\nid = \"audit\"\nwasm = \"audit.wasm\"\n";
    let mut node = Node::new("n1", &server.url(), local);
    node.start().unwrap();
    let handle = node.runtime().handle();
    // The node's own test subscription and the agent's bridge.
    let with_agent = handle.event_subscribers();
    node.agent.take().expect("started").stop();
    // The bridge's subscription leaves as its thread ends, with no event
    // needed to find it gone.
    wait_until("the bridge's subscription is gone", || {
        handle.event_subscribers() == with_agent - 1
    });
    node.feed(5);
    node.stop();
}
