//! Object storage (the `cloud` feature), against real protocol servers started here on 127.0.0.1:
//! the S3 server of `moto` (PyPI `moto[server]`) and Azure's own storage emulator Azurite (npm
//! `azurite`). TPC-H SF 0.01's Parquet files and a two-version Delta table are uploaded to each, and
//! then, through the `dfpolicy` binary with credentials in its environment only:
//! - bundles over S3 and over Azure equal the bundles over the same files on disk, once the
//!   location prefix is taken out;
//! - `workload snapshot` of the S3 workload is byte for byte the snapshot of the local copy;
//! - the artifact store round-trips on S3 and on Azure, four concurrent writers on S3 lose no row,
//!   and a store whose conditional writes are off is refused;
//! - no output — bundles, baselines, snapshots, reports, store objects, error messages — contains a
//!   test credential.
//!
//! Without a server program the server part is skipped (and says so), unless
//! `DFPOLICY_REQUIRE_SERVERS` is set, as `.ci/run` sets it after installing both.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dfpolicy::object_storage::open::open_store;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use crate::browser::{decode_base64, encode_base64};
use crate::workload::{builtin, tpch_data};
use crate::{files_below, repo};

const REQUIRE_SERVERS: &str = "DFPOLICY_REQUIRE_SERVERS";

/// The test credentials: no output may contain them.
const S3_KEY_ID: &str = "AKIADFPOLICYTESTKEY1";
const S3_SECRET: &str = "dfpolicy-s3-test-secret-7f3a9c1e";
const AZURE_ACCOUNT: &str = "dfpolicytest";
/// Azurite takes an account's key in base64; this is "dfpolicy-azure-test-key-5b1e08d2".
const AZURE_KEY: &str = "ZGZwb2xpY3ktYXp1cmUtdGVzdC1rZXktNWIxZTA4ZDI=";

/// The TPC-H queries the workloads plan (joins, aggregates, subqueries), and two over the Delta
/// table at each of its versions.
const TPCH_QUERIES: &[&str] = &["q01", "q03", "q05", "q10", "q18"];
const DELTA_QUERIES: &[(&str, &str)] = &[
    (
        "delta_v0",
        "select l_shipmode, sum(l_quantity) from lineitem_v0 where l_shipmode in ('AIR', 'RAIL') and l_quantity > 10 group by l_shipmode",
    ),
    (
        "delta_latest",
        "select l_returnflag, count(*) from lineitem_delta where l_shipdate < date '1995-01-01' group by l_returnflag",
    ),
];

/// A server program, started once per test process and killed with it.
struct Server {
    port: u16,
}

/// Starts `program` with `args(port)` and `env` on a free port from a thread that lives as long as
/// the process, the child asked to die with it (`PR_SET_PDEATHSIG`); `None` when the program is
/// missing and the servers are not required.
fn start_server(
    program: &str,
    install: &str,
    args: impl Fn(u16) -> Vec<String> + Send + 'static,
    env: &'static [(&'static str, &'static str)],
) -> Option<Server> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    });
    let Some(binary) = found else {
        let message = format!("the object-storage tests need `{program}`: {install}");
        if std::env::var_os(REQUIRE_SERVERS).is_some_and(|v| !v.is_empty()) {
            panic!("{message}");
        }
        eprintln!("skipped against a server: {message}");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (started, child) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(binary);
        command
            .args(args(port))
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: prctl is async-signal-safe; the signal follows this thread's end, and this
        // thread parks until the process ends.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        match command.spawn() {
            Ok(mut server) => {
                started.send(Ok(())).unwrap();
                // The server runs until the process ends; this thread must live as long.
                let _ = server.wait();
            }
            Err(e) => started.send(Err(e)).unwrap(),
        }
        loop {
            std::thread::park();
        }
    });
    child
        .recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("{program} does not start: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{program} never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Server { port })
}

fn moto() -> Option<&'static Server> {
    static MOTO: OnceLock<Option<Server>> = OnceLock::new();
    MOTO.get_or_init(|| {
        start_server(
            "moto_server",
            "pip install 'moto[server]'",
            |port| {
                ["-H", "127.0.0.1", "-p", &port.to_string()]
                    .map(str::to_string)
                    .to_vec()
            },
            &[],
        )
    })
    .as_ref()
}

fn azurite() -> Option<&'static Server> {
    static AZURITE: OnceLock<Option<Server>> = OnceLock::new();
    AZURITE
        .get_or_init(|| {
            start_server(
                "azurite-blob",
                "npm install -g azurite",
                |port| {
                    [
                        "--blobHost",
                        "127.0.0.1",
                        "--blobPort",
                        &port.to_string(),
                        "--inMemoryPersistence",
                        "--skipApiVersionCheck",
                        "--silent",
                    ]
                    .map(str::to_string)
                    .to_vec()
                },
                &[(
                    "AZURITE_ACCOUNTS",
                    "dfpolicytest:ZGZwb2xpY3ktYXp1cmUtdGVzdC1rZXktNWIxZTA4ZDI=",
                )],
            )
        })
        .as_ref()
}

/// One bucket (container) of a server, with a client for uploading and for reading back what
/// dfpolicy wrote, and the settings the `dfpolicy` binary gets.
struct Bucket {
    /// `s3://name` or `az://name`.
    url: String,
    store: Arc<dyn ObjectStore>,
    /// The environment of every `dfpolicy` run: credentials here, nowhere else, and the server's
    /// settings, which is where the artifact store takes them from.
    env: Vec<(String, String)>,
    /// The storage options a workload file writes (never a credential).
    options: String,
}

fn bucket_name(test: &str) -> String {
    format!("dfpolicy-{}", test.replace('_', "-"))
}

fn s3_bucket(test: &str) -> Option<Bucket> {
    let server = moto()?;
    let name = bucket_name(test);
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    // moto creates buckets from unsigned requests.
    let status = http(server.port, "PUT", &format!("/{name}"), &[]);
    assert!(status == 200, "cannot create bucket {name}: HTTP {status}");
    let env = [
        ("AWS_ACCESS_KEY_ID", S3_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", S3_SECRET),
        ("AWS_ENDPOINT", &endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
    ];
    let options = format!(r#"endpoint = "{endpoint}", allow_http = "true", region = "us-east-1""#);
    Some(Bucket::new(format!("s3://{name}"), &env, &options))
}

fn azure_container(test: &str) -> Option<Bucket> {
    let server = azurite()?;
    let name = bucket_name(test);
    let endpoint = format!("http://127.0.0.1:{}/{AZURE_ACCOUNT}", server.port);
    create_container(server.port, &name);
    let env = [
        ("AZURE_STORAGE_ACCOUNT_NAME", AZURE_ACCOUNT),
        ("AZURE_STORAGE_ACCOUNT_KEY", AZURE_KEY),
        ("AZURE_STORAGE_ENDPOINT", &endpoint),
        ("AZURE_ALLOW_HTTP", "true"),
    ];
    let options = format!(r#"endpoint = "{endpoint}", allow_http = "true""#);
    Some(Bucket::new(format!("az://{name}"), &env, &options))
}

impl Bucket {
    /// The bucket at `url`, its client configured from `env` as dfpolicy's stores are (each
    /// variable's lowercase name is an `object_store` configuration key), and `options` the
    /// workload files' storage options.
    fn new(url: String, env: &[(&str, &str)], options: &str) -> Bucket {
        let settings = env
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .collect();
        let store =
            open_store(&url::Url::parse(&url).unwrap(), &settings).expect("the test's client");
        Bucket {
            url,
            store,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            options: format!("storage_options = {{ {options} }}"),
        }
    }
}

/// A plain HTTP/1.1 request without a body; the status code.
fn http(port: u16, method: &str, path: &str, headers: &[(String, String)]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Azure's Create Container, signed with the account key (Shared Key): `object_store` does not
/// create containers.
fn create_container(port: u16, name: &str) {
    let date = httpdate(std::time::SystemTime::now());
    let version = "2021-08-06";
    // Path-style (emulator) resource: /account/account/container.
    let to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{AZURE_ACCOUNT}/{AZURE_ACCOUNT}/{name}\nrestype:container"
    );
    let signature = encode_base64(&hmac_sha256(&decode_base64(AZURE_KEY), to_sign.as_bytes()));
    let status = http(
        port,
        "PUT",
        &format!("/{AZURE_ACCOUNT}/{name}?restype=container"),
        &[
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), version.into()),
            (
                "Authorization".into(),
                format!("SharedKey {AZURE_ACCOUNT}:{signature}"),
            ),
        ],
    );
    assert!(
        status == 201,
        "cannot create container {name}: HTTP {status}"
    );
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// An RFC 7231 date (`Fri, 04 Dec 2026 13:27:00 GMT`).
fn httpdate(time: std::time::SystemTime) -> String {
    let seconds = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let days = seconds / 86_400;
    let (hour, minute, second) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let month_name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{weekday}, {day:02} {month_name} {year} {hour:02}:{minute:02}:{second:02} GMT")
}

#[test]
fn http_dates_are_rfc_7231() {
    let time = std::time::UNIX_EPOCH + Duration::from_secs(1_796_390_820);
    assert_eq!(httpdate(time), "Fri, 04 Dec 2026 13:27:00 GMT");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The files of a lake: TPC-H SF 0.01 Parquet under `tpch/`, the two-version Delta `lineitem`
/// (partitioned by `l_shipmode`) under `delta/lineitem/`, by path relative to the lake's root.
fn lake_files() -> BTreeMap<String, PathBuf> {
    runtime().block_on(async {
        builtin(false).await;
        builtin(true).await;
    });
    let data = tpch_data();
    let mut files = BTreeMap::new();
    for table in dfpolicy::workload::tpch::TABLES {
        files.insert(format!("tpch/{table}.parquet"), data.parquet_file(table));
    }
    let delta = data.delta_table("lineitem");
    for path in files_below(&delta) {
        files.insert(
            format!("delta/lineitem/{}", path.to_string_lossy()),
            delta.join(path),
        );
    }
    files
}

/// A workload over a lake at `root` (`s3://bucket/lake/`, or `""` for a folder beside the workload
/// file): the TPC-H tables, `lineitem_delta` (latest) and `lineitem_v0` (pinned).
fn workload_file(folder: &Path, root: &str, options: &str) -> PathBuf {
    let mut text = String::from("[workload]\nname = \"lake\"\n\n");
    let mut table = |name: &str, format: &str, location: &str, extra: &str| {
        text.push_str(&format!(
            "[[tables]]\nname = \"{name}\"\nformat = \"{format}\"\nlocation = \"{root}{location}\"\n{extra}{options}\n\n"
        ));
    };
    for name in dfpolicy::workload::tpch::TABLES {
        table(name, "parquet", &format!("tpch/{name}.parquet"), "");
    }
    table("lineitem_delta", "delta", "delta/lineitem", "");
    table("lineitem_v0", "delta", "delta/lineitem", "version = 0\n");
    text.push_str("[queries]\npaths = [\"queries/*.sql\"]\n");
    let queries = folder.join("queries");
    std::fs::create_dir_all(&queries).unwrap();
    for query in TPCH_QUERIES {
        std::fs::copy(
            repo().join(format!("src/workload/tpch/{query}.sql")),
            queries.join(format!("{query}.sql")),
        )
        .unwrap();
    }
    for (name, sql) in DELTA_QUERIES {
        std::fs::write(queries.join(format!("{name}.sql")), sql).unwrap();
    }
    let path = folder.join("workload.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The lake on disk: the files copied beside a workload file.
fn local_lake(folder: &Path) -> PathBuf {
    for (relative, source) in lake_files() {
        let target = folder.join(&relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(source, target).unwrap();
    }
    workload_file(folder, "", "")
}

/// The lake uploaded below `lake/` of the bucket, and its workload file in `folder`.
fn remote_lake(bucket: &Bucket, folder: &Path) -> PathBuf {
    let files = lake_files();
    runtime().block_on(async {
        for (relative, source) in files {
            let bytes = std::fs::read(source).unwrap();
            bucket
                .store
                .put(
                    &ObjectPath::from(format!("lake/{relative}")),
                    PutPayload::from(bytes),
                )
                .await
                .unwrap();
        }
    });
    workload_file(folder, &format!("{}/lake/", bucket.url), &bucket.options)
}

/// `dfpolicy args` with the bucket's environment (credentials included), in `dir`.
fn command(bucket: &Bucket, dir: &Path, args: &[&str]) -> Command {
    let mut command = crate::dfpolicy_command(args, dir);
    command.envs(bucket.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

fn dfpolicy(bucket: &Bucket, dir: &Path, args: &[&str]) -> Output {
    command(bucket, dir, args)
        .output()
        .expect("the dfpolicy binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A matrix command planned every cell: exit 0 — or, with `--features substrait`, exit 1 where
/// the only failed step is Substrait's (DataFusion 55 cannot write the dictionary literal of a
/// Delta partition column's filter).
fn assert_planned(output: &Output) {
    let said = text(output);
    let substrait_only = cfg!(feature = "substrait")
        && said
            .lines()
            .filter(|line| line.starts_with("warning") || line.starts_with("error"))
            .all(|line| line.contains(": substrait: "));
    match output.status.code() {
        Some(0) => {}
        Some(1) if substrait_only => {}
        _ => panic!("{said}"),
    }
}

/// Every file below `folder`, by relative path, its text with `from` replaced by `to` and the
/// plan fingerprint left out (it hashes the table pins, whose locations differ by design).
fn folder_texts(folder: &Path, from: &str, to: &str) -> BTreeMap<String, String> {
    files_below(folder)
        .into_iter()
        .map(|path| {
            let text = String::from_utf8_lossy(&std::fs::read(folder.join(&path)).unwrap())
                .replace(from, to)
                .lines()
                .filter(|line| !line.contains("\"plan_fingerprint\""))
                .collect::<Vec<_>>()
                .join("\n");
            (path.to_string_lossy().into_owned(), text)
        })
        .collect()
}

/// Fails when any file below `folder`, or any text, holds a test credential.
fn assert_no_secret(what: &str, text: &str) {
    for secret in [S3_SECRET, AZURE_KEY, "dfpolicy-azure-test-key"] {
        assert!(!text.contains(secret), "{what} contains a test credential");
    }
}

fn assert_no_secret_below(folder: &Path) {
    for (path, text) in folder_texts(folder, "", "") {
        assert_no_secret(&format!("{}/{path}", folder.display()), &text);
    }
}

/// Plans every query of the lake under every bundled policy over the bucket and over the local
/// copy (as `harness --out` baselines) and compares them file by file.
fn bundles_equal_the_local_copy(bucket: &Bucket) {
    let dir = tempfile::tempdir().unwrap();
    let local = local_lake(&dir.path().join("local"));
    let remote = remote_lake(bucket, &dir.path().join("remote"));
    let policies = repo().join("policies");
    let policies = policies.to_str().unwrap();
    for (workload, out) in [(&local, "local-bundles"), (&remote, "remote-bundles")] {
        let output = dfpolicy(
            bucket,
            dir.path(),
            &[
                "harness",
                "--workload",
                workload.to_str().unwrap(),
                "--policies",
                policies,
                "--out",
                out,
            ],
        );
        assert_planned(&output);
        assert_no_secret("harness output", &text(&output));
    }
    let prefix = format!("{}/lake/", bucket.url);
    // The tables' facts (files listed from the store, rows from the Parquet footers, the Delta
    // log's versions) are those of the local copy.
    let show = |workload: &Path| {
        let output = dfpolicy(
            bucket,
            dir.path(),
            &[
                "workload",
                "show",
                workload.to_str().unwrap(),
                "--format",
                "json",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(
        show(&local).replace("local/", ""),
        show(&remote).replace(&prefix, "").replace("remote/", "")
    );
    let local_texts = folder_texts(&dir.path().join("local-bundles"), "", "");
    let remote_texts = folder_texts(&dir.path().join("remote-bundles"), &prefix, "");
    assert_eq!(local_texts.len(), remote_texts.len());
    assert!(local_texts.len() > 5 * (TPCH_QUERIES.len() + DELTA_QUERIES.len()));
    for (path, text) in &local_texts {
        assert_eq!(Some(text), remote_texts.get(path), "{path} differs");
    }
    // The remote bundles name the remote location, and their Delta scans know their table.
    let bundle = std::fs::read_to_string(
        dir.path()
            .join("remote-bundles/bundles/baseline/delta_v0.bundle"),
    )
    .unwrap();
    assert!(
        bundle.contains(&format!("{prefix}delta/lineitem")),
        "{bundle}"
    );
    assert!(bundle.contains("\"table\": \"lineitem_v0\""), "{bundle}");
    assert_no_secret_below(&dir.path().join("remote-bundles"));
    // The report of the comparison with a changed plan names no credential either.
    let check = dfpolicy(
        bucket,
        dir.path(),
        &[
            "check",
            "--workload",
            remote.to_str().unwrap(),
            "--policies",
            policies,
            "--baseline",
            "remote-bundles",
            "--html",
            "review.html",
        ],
    );
    assert_planned(&check);
    assert_no_secret("check report", &text(&check));
    assert_no_secret(
        "review page",
        &std::fs::read_to_string(dir.path().join("review.html")).unwrap(),
    );
}

#[test]
fn bundles_over_s3_equal_bundles_over_the_local_copy() {
    if let Some(bucket) = s3_bucket("bundles") {
        bundles_equal_the_local_copy(&bucket);
    }
}

#[test]
fn bundles_over_azure_equal_bundles_over_the_local_copy() {
    if let Some(container) = azure_container("bundles") {
        bundles_equal_the_local_copy(&container);
    }
}

#[test]
fn a_snapshot_taken_from_s3_is_the_snapshot_of_the_local_copy() {
    let Some(bucket) = s3_bucket("snapshot") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let local = local_lake(&dir.path().join("local"));
    let remote = remote_lake(&bucket, &dir.path().join("remote"));
    let policies = repo().join("policies");
    for (workload, out) in [(&local, "local-snapshot"), (&remote, "remote-snapshot")] {
        let output = dfpolicy(
            &bucket,
            dir.path(),
            &[
                "workload",
                "snapshot",
                workload.to_str().unwrap(),
                "--out",
                out,
                "--policies",
                policies.to_str().unwrap(),
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert_no_secret("snapshot output", &text(&output));
    }
    let read =
        |folder: &str, file: &str| std::fs::read(dir.path().join(folder).join(file)).unwrap();
    for file in ["snapshot.json", "workload.toml"] {
        assert_eq!(
            String::from_utf8(read("local-snapshot", file)).unwrap(),
            String::from_utf8(read("remote-snapshot", file)).unwrap(),
            "{file} differs"
        );
    }
    assert!(read("local-snapshot", "snapshot.bin") == read("remote-snapshot", "snapshot.bin"));
    assert_no_secret_below(&dir.path().join("remote-snapshot"));
    // The snapshot plans without the bucket: no credentials, no server.
    let policy = repo().join("policies/baseline.toml");
    let bundle = crate::dfpolicy_command(
        &[
            "bundle",
            "--workload",
            "remote-snapshot/workload.toml",
            "--query",
            "q05",
            "--policy",
            policy.to_str().unwrap(),
        ],
        dir.path(),
    )
    .env_remove("AWS_SECRET_ACCESS_KEY")
    .output()
    .unwrap();
    assert_eq!(bundle.status.code(), Some(0), "{}", text(&bundle));
}

/// A local lake in `dir`, and the store in the bucket with the `harness` arguments that append the
/// lake's run under `policies` to it.
fn harness_into_store(bucket: &Bucket, dir: &Path, policies: &Path) -> (String, Vec<String>) {
    let local = local_lake(&dir.join("local"));
    let store = format!("{}/dfpolicy-store", bucket.url);
    let args = [
        "harness",
        "--workload",
        local.to_str().unwrap(),
        "--policies",
        policies.to_str().unwrap(),
        "--store",
        &store,
    ]
    .map(str::to_string)
    .to_vec();
    (store, args)
}

/// `harness --store` into the bucket from `writers` processes at once; then every run is in the
/// store with every cell, and `store diff` compares two of them.
fn store_round_trips(bucket: &Bucket, writers: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (store, harness) = harness_into_store(bucket, dir.path(), &repo().join("policies"));
    let harness: Vec<&str> = harness.iter().map(String::as_str).collect();
    let children: Vec<_> = (0..writers)
        .map(|_| {
            command(bucket, dir.path(), &harness)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_planned(&output);
        assert_no_secret("harness --store output", &text(&output));
    }
    let runs = dfpolicy(
        bucket,
        dir.path(),
        &["store", "runs", "--store", &store, "--format", "json"],
    );
    assert_eq!(runs.status.code(), Some(0), "{}", text(&runs));
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.len(), writers, "every writer's run landed once");
    let cells = 5 * (TPCH_QUERIES.len() + DELTA_QUERIES.len()) as u64;
    for run in &runs {
        assert_eq!(run["cells"], cells, "{run}");
    }
    if writers > 1 {
        let (a, b) = (
            runs[0]["run_id"].as_str().unwrap(),
            runs[1]["run_id"].as_str().unwrap(),
        );
        let diff = dfpolicy(
            bucket,
            dir.path(),
            &["store", "diff", a, b, "--store", &store],
        );
        assert_planned(&diff);
        assert!(text(&diff).contains("unchanged"), "{}", text(&diff));
    }
    // What the store wrote to the bucket carries no credential.
    runtime().block_on(async {
        let objects: Vec<_> = bucket
            .store
            .list(Some(&ObjectPath::from("dfpolicy-store")))
            .try_collect()
            .await
            .unwrap();
        assert!(
            objects
                .iter()
                .any(|o| o.location.as_ref().contains("_delta_log"))
        );
        assert!(
            !objects
                .iter()
                .any(|o| o.location.as_ref().contains("_dfpolicy_conditional_put")),
            "the conditional-write probe is removed"
        );
        for object in objects {
            let bytes = bucket
                .store
                .get(&object.location)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_no_secret(object.location.as_ref(), &String::from_utf8_lossy(&bytes));
        }
    });
}

#[test]
fn four_concurrent_writers_to_a_store_on_s3_lose_no_run() {
    if let Some(bucket) = s3_bucket("store") {
        store_round_trips(&bucket, 4);
    }
}

#[test]
fn the_store_round_trips_on_azure() {
    if let Some(container) = azure_container("store") {
        store_round_trips(&container, 2);
    }
}

#[test]
fn a_store_without_conditional_writes_is_refused() {
    let Some(bucket) = s3_bucket("unsafe-store") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let policy = repo().join("policies/baseline.toml");
    let (_, harness) = harness_into_store(&bucket, dir.path(), &policy);
    let harness: Vec<&str> = harness.iter().map(String::as_str).collect();
    let output = command(&bucket, dir.path(), &harness)
        .env("AWS_CONDITIONAL_PUT", "disabled")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let said = text(&output);
    assert!(said.contains("cannot commit safely"), "{said}");
    assert!(said.contains("refusing to write"), "{said}");
    assert_no_secret("refusal", &said);
    let listed: Vec<_> = runtime().block_on(async {
        bucket
            .store
            .list(Some(&ObjectPath::from("dfpolicy-store")))
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
    });
    assert!(listed.is_empty(), "nothing was written: {listed:?}");
}

#[test]
fn errors_over_s3_name_the_location_without_credentials() {
    let Some(bucket) = s3_bucket("errors") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let workload = remote_lake(&bucket, &dir.path().join("remote"));
    let policies = repo().join("policies/baseline.toml");
    let policies = policies.to_str().unwrap();
    // A table that is not there: the error names its location.
    let text_of = std::fs::read_to_string(&workload).unwrap();
    std::fs::write(
        &workload,
        text_of.replace("tpch/orders.parquet", "tpch/missing/"),
    )
    .unwrap();
    let output = dfpolicy(
        &bucket,
        dir.path(),
        &[
            "harness",
            "--workload",
            workload.to_str().unwrap(),
            "--policies",
            policies,
        ],
    );
    let said = text(&output);
    assert_ne!(output.status.code(), Some(0), "{said}");
    assert_no_secret("error", &said);
    // The workload file with `from` written as `to`, validated: findings (exit 1), no credential.
    let findings_with = |from: &str, to: &str| {
        std::fs::write(&workload, text_of.replacen(from, to, 1)).unwrap();
        let output = dfpolicy(
            &bucket,
            dir.path(),
            &["workload", "validate", workload.to_str().unwrap()],
        );
        let said = text(&output);
        assert_eq!(output.status.code(), Some(1), "{said}");
        assert_no_secret("finding", &said);
        said
    };
    // A credential written in the workload file: a finding at its key, the value masked.
    let said = findings_with(
        "region = \"us-east-1\"",
        &format!("region = \"us-east-1\", aws_secret_access_key = \"{S3_SECRET}\""),
    );
    assert!(
        said.contains("storage option `aws_secret_access_key` is a credential"),
        "{said}"
    );
    assert!(said.contains("AWS_SECRET_ACCESS_KEY"), "{said}");
    assert!(said.contains("workload.toml:"), "{said}");
    // A location with user information or a signed URL's query is refused, shown without them.
    let part = format!("{}/lake/tpch/part.parquet", bucket.url);
    let bucket_name = bucket.url.trim_start_matches("s3://");
    let said = findings_with(
        &part,
        &format!("s3://{S3_KEY_ID}:{S3_SECRET}@{bucket_name}/lake/tpch/part.parquet"),
    );
    assert!(said.contains("has user information"), "{said}");
    let said = findings_with(
        &part,
        &format!("{part}?X-Amz-Credential={S3_KEY_ID}&X-Amz-Signature={S3_SECRET}"),
    );
    assert!(said.contains("has a query string"), "{said}");
    assert!(!said.contains(S3_KEY_ID), "{said}");
}

/// A session reads a bucket through one store: the tables of one bucket share the store of the
/// first, and writing other storage options for the same bucket is a finding at the location.
#[test]
fn the_tables_of_one_bucket_share_its_store_and_its_options() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("queries")).unwrap();
    std::fs::write(dir.path().join("queries/q.sql"), "select 1").unwrap();
    let workload = dir.path().join("workload.toml");
    let write = |second_region: &str| {
        std::fs::write(
            &workload,
            format!(
                "[workload]\nname = \"lake\"\n\n\
                 [[tables]]\nname = \"orders\"\nformat = \"parquet\"\nlocation = \"s3://lake/orders/\"\n\
                 storage_options = {{ region = \"eu-west-1\" }}\n\n\
                 [[tables]]\nname = \"items\"\nformat = \"parquet\"\nlocation = \"s3://lake/items/\"\n\
                 storage_options = {{ region = \"{second_region}\" }}\n\n\
                 [queries]\npaths = [\"queries/*.sql\"]\n"
            ),
        )
        .unwrap();
        crate::dfpolicy(
            &["workload", "validate", workload.to_str().unwrap()],
            &std::env::current_dir().unwrap(),
        )
    };
    // Validation opens the stores but sends no request: no server is needed.
    let same = write("eu-west-1");
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let other = write("us-east-1");
    let said = text(&other);
    assert_eq!(other.status.code(), Some(1), "{said}");
    assert!(
        said.contains(
            "table `items`: s3://lake/ is read with other storage options by table `orders`"
        ),
        "{said}"
    );
    assert!(said.contains("workload.toml:13:12"), "{said}");
}
