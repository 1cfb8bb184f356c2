//! A real Kafka-compatible broker for the tests: tansu 0.6.0, started on a
//! free loopback port with its own SQLite storage in a scratch directory,
//! and killed when the test's handle is dropped.
//!
//! The binary comes from `TICKHOST_TANSU`, which `scripts/test.sh` sets
//! after installing it once per machine (`scripts/ensure-tansu.sh`), or from
//! that script's cache. A missing binary fails the test with the command to
//! run: a Kafka test never skips.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::support::scratch;

/// How long tansu may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running tansu broker.
pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    /// Kafka tests run one at a time: each runs a broker and one or two
    /// hosts, which is all two cores can carry without timing out.
    _turn: MutexGuard<'static, ()>,
}

static TURN: Mutex<()> = Mutex::new(());

/// The tansu binary, or a panic that says how to get it.
fn tansu() -> PathBuf {
    if let Some(path) = std::env::var_os("TICKHOST_TANSU") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("TICKHOST_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/tickhost")))
        .expect("HOME is set");
    let path = cache.join("tansu-0.6.0/bin/tansu");
    assert!(
        path.exists(),
        "the tansu broker is not installed: run scripts/ensure-tansu.sh (or scripts/test.sh), \
         or set TICKHOST_TANSU"
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Broker {
    /// Starts a broker with empty storage for the test `name`.
    pub fn start(name: &str) -> Broker {
        let mut broker = Broker::reserve(name);
        broker.launch();
        broker
    }

    /// A broker for the test `name` with a port and storage, not started
    /// yet: [`Broker::launch`] starts it.
    pub fn reserve(name: &str) -> Broker {
        let dir = scratch(&format!("tansu-{name}"));
        let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        Broker {
            _turn: turn,
            child: None,
            port: free_port(),
            dir,
        }
    }

    /// The `bootstrap.servers` of the broker.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker and waits until it answers.
    pub fn launch(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = std::fs::File::create(self.dir.join("tansu.log")).expect("tansu log");
        // Started from inside its directory: tansu takes the SQLite path
        // relative to it and reads a `.env` there, of which there is none.
        let child = Command::new(tansu())
            .current_dir(&self.dir)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("tansu log"))
            .stderr(log)
            .spawn()
            .expect("tansu starts");
        self.child = Some(child);

        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let probe: BaseConsumer = self.client().create().expect("a client");
        while probe.fetch_metadata(None, Duration::from_secs(2)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not answer within {START_TIMEOUT:?}"
            );
        }
    }

    /// Kills the broker as a crash would, keeping its storage.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port and storage.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// A client configuration for this broker.
    pub fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", self.bootstrap());
        config
    }

    /// Creates a topic with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.client().create().expect("admin");
        let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let results =
            futures::executor::block_on(admin.create_topics(&[new], &AdminOptions::new()))
                .expect("create_topics answers");
        for result in results {
            result.unwrap_or_else(|(topic, code)| panic!("creating '{topic}' failed: {code}"));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}
