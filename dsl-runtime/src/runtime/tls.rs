//! Who is at the other end of a connection: mutual TLS with one
//! certificate authority per cluster.
//!
//! [`issue`] makes the authority and a certificate for every node and one
//! for clients. A node's certificate names it by a DNS name derived from
//! its node name ([`node_dns_name`]); the client certificate names
//! [`CLIENT_DNS_NAME`]. Every connection presents a certificate signed by
//! the cluster's authority, and a node takes the caller's identity from
//! that certificate, never from what a frame says: a hello that claims to
//! be a node its certificate does not name is refused (see
//! [`crate::runtime::transport`]).
//!
//! Certificates are ECDSA P-256, made with `rcgen`; TLS is `rustls` with
//! the `ring` provider, TLS 1.3 and 1.2 only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The name client certificates carry.
pub const CLIENT_DNS_NAME: &str = "client.verdict";

/// The DNS name a node's certificate carries: a readable label from its
/// name plus a hash of the exact name, so `Client(0)` and a role named
/// `Client_0` never share one. `Client(0)` -> `client-0-<8 hex>.node.verdict`.
pub fn node_dns_name(name: &str) -> String {
    let mut label: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while label.contains("--") {
        label = label.replace("--", "-");
    }
    let label: String = label.trim_matches('-').chars().take(40).collect();
    // FNV-1a: stable across builds and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{label}-{h:08x}.node.verdict")
}

/// Where a cluster's certificates are, resolved to real paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    /// The cluster's certificate authority (PEM).
    pub ca: PathBuf,
    /// Each node's certificate and key, by node index.
    pub nodes: Vec<(PathBuf, PathBuf)>,
    /// The client certificate and key, if the file gives them.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// What [`issue`] wrote, as file names inside its directory.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The authority's certificate.
    pub ca: String,
    /// The authority's key (keep it private; it can make new certificates).
    pub ca_key: String,
    /// Per node, in the order given: certificate and key.
    pub nodes: Vec<(String, String)>,
    /// The client certificate and key.
    pub client: (String, String),
}

/// Makes a certificate authority for `cluster_id`, a certificate for each
/// node of `names` and one for clients, and writes them as PEM files into
/// `dir` (keys readable by the owner only). Existing files are replaced.
pub fn issue(dir: &Path, cluster_id: &str, names: &[String]) -> Result<Issued, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let fail = |what: &str, e: rcgen::Error| format!("cannot make the {what}: {e}");
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let ca_key = KeyPair::generate().map_err(|e| fail("authority's key", e))?;
    let mut ca_params = CertificateParams::new(Vec::new()).map_err(|e| fail("authority", e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.distinguished_name.push(
        DnType::CommonName,
        format!("{cluster_id} certificate authority"),
    );
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params
        .self_signed(&ca_key)
        .map_err(|e| fail("authority", e))?;

    let leaf = |dns: String, common: &str| -> Result<(String, String), String> {
        let key = KeyPair::generate().map_err(|e| fail("key", e))?;
        let mut p = CertificateParams::new(vec![dns]).map_err(|e| fail("certificate", e))?;
        p.distinguished_name.push(DnType::CommonName, common);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // Nodes both accept connections and open them to peers.
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = p
            .signed_by(&key, &ca, &ca_key)
            .map_err(|e| fail("certificate", e))?;
        Ok((cert.pem(), key.serialize_pem()))
    };

    let write = |name: &str, text: &str, private: bool| -> Result<String, String> {
        let path = dir.join(name);
        write_file(&path, text.as_bytes(), private)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(name.to_string())
    };
    let mut issued = Issued {
        ca: write("ca.pem", &ca.pem(), false)?,
        ca_key: write("ca-key.pem", &ca_key.serialize_pem(), true)?,
        nodes: Vec::new(),
        client: (String::new(), String::new()),
    };
    for name in names {
        let (cert, key) = leaf(node_dns_name(name), name)?;
        let base = slug(name);
        issued.nodes.push((
            write(&format!("{base}.pem"), &cert, false)?,
            write(&format!("{base}-key.pem"), &key, true)?,
        ));
    }
    let (cert, key) = leaf(CLIENT_DNS_NAME.to_string(), "client")?;
    issued.client = (
        write("client.pem", &cert, false)?,
        write("client-key.pem", &key, true)?,
    );
    Ok(issued)
}

fn write_file(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = private;
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// `Client(0)` -> `client-0`: a file-name-safe form of a node name.
fn slug(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            '(' | '_' | ' ' => Some('-'),
            ')' => None,
            c => Some(c.to_ascii_lowercase()),
        })
        .collect()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read certificate {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", path.display()));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("cannot read private key {}: {e}", path.display()))
}

fn load_roots(ca: &Path) -> Result<Arc<RootCertStore>, String> {
    let mut roots = RootCertStore::empty();
    for c in load_certs(ca)? {
        roots
            .add(c)
            .map_err(|e| format!("{} is not a usable authority: {e}", ca.display()))?;
    }
    Ok(Arc::new(roots))
}

fn client_config(
    roots: Arc<RootCertStore>,
    cert: &Path,
    key: &Path,
) -> Result<Arc<ClientConfig>, String> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
        .map_err(|e| format!("{} and {} do not match: {e}", cert.display(), key.display()))?;
    Ok(Arc::new(config))
}

/// Who a connection's certificate says is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// The node with this index.
    Node(usize),
    /// A client.
    Client,
    /// Nothing checked: the cluster runs with `insecure = true`.
    Unauthenticated,
}

/// A node's TLS settings: its certificate for both directions, the
/// cluster's authority, and the names to recognise callers by.
pub struct NodeTls {
    /// Accepts connections, requiring a certificate of the authority.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Opens connections to peers, presenting this node's certificate.
    pub connector: tokio_rustls::TlsConnector,
    /// Each node's certificate name, by index.
    names: Vec<ServerName<'static>>,
}

impl NodeTls {
    /// Loads node `me`'s certificate and key and the authority.
    pub fn load(paths: &TlsPaths, me: usize, names: &[String]) -> Result<Self, String> {
        let roots = load_roots(&paths.ca)?;
        let (cert, key) = &paths.nodes[me];
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
            .build()
            .map_err(|e| format!("TLS: {e}"))?;
        let server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|e| format!("{} and {} do not match: {e}", cert.display(), key.display()))?;
        let client = client_config(roots, cert, key)?;
        let names = names
            .iter()
            .map(|n| {
                ServerName::try_from(node_dns_name(n))
                    .map_err(|e| format!("node `{n}` has no usable certificate name: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(NodeTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            connector: tokio_rustls::TlsConnector::from(client),
            names,
        })
    }

    /// The certificate name of node `index`.
    pub fn name_of(&self, index: usize) -> ServerName<'static> {
        self.names[index].clone()
    }

    /// Who the (already verified) certificate `cert` names, if anyone.
    pub fn identify(&self, cert: Option<&CertificateDer<'_>>) -> Option<Identity> {
        let cert = webpki::EndEntityCert::try_from(cert?).ok()?;
        if let Some(i) = self
            .names
            .iter()
            .position(|n| cert.verify_is_valid_for_subject_name(n).is_ok())
        {
            return Some(Identity::Node(i));
        }
        let client = ServerName::try_from(CLIENT_DNS_NAME).ok()?;
        cert.verify_is_valid_for_subject_name(&client)
            .is_ok()
            .then_some(Identity::Client)
    }
}

/// A client's TLS settings: the client certificate and the authority.
pub fn client_tls(ca: &Path, cert: &Path, key: &Path) -> Result<Arc<ClientConfig>, String> {
    client_config(load_roots(ca)?, cert, key)
}

/// The TLS library, for programs that speak to nodes directly.
pub use rustls;
