//! The S3 connection shared by the S3 source and the S3 sink: AWS configuration resolved the
//! way users expect (the default credential chain, AWS_PROFILE, AWS_REGION,
//! AWS_ENDPOINT_URL(_S3)) plus testscope's own endpoint and path-style flags, a small tokio
//! runtime owned here (the rest of the program is synchronous), and error messages that say
//! what went wrong without ever printing a secret.

use std::future::Future;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// How to reach S3. Everything not set here comes from the environment and the AWS config
/// files, as the AWS CLI resolves it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// `--s3-endpoint`: an S3-compatible store; wins over AWS_ENDPOINT_URL(_S3).
    pub endpoint: Option<String>,
    /// `--s3-path-style`: `http://host/bucket/key` instead of `http://bucket.host/key`.
    pub path_style: bool,
    /// Longest wait for one request attempt, sending the body included, before the SDK
    /// retries it (a hung connection must not hang a CI job).
    pub timeout: Duration,
    /// Region instead of AWS_REGION or the profile's (library callers; us-east-1 when
    /// nothing names one).
    pub region: Option<String>,
    /// Fixed credentials instead of the default chain (library callers and tests; the command
    /// line always uses the chain).
    pub credentials: Option<Credentials>,
    /// When requests may go unsigned (anonymous, as `aws s3 --no-sign-request`).
    pub unsigned: Unsigned,
}

/// When requests may go unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsigned {
    /// Never: without credentials, connecting is an error (uploads are never anonymous).
    Never,
    /// When the credential chain finds nothing (reading a public bucket).
    WithoutCredentials,
    /// Always (`--no-sign-request`).
    Always,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: None,
            path_style: false,
            timeout: Duration::from_secs(120),
            region: None,
            credentials: None,
            unsigned: Unsigned::Never,
        }
    }
}

/// Said when an upload finds no credentials.
pub const NO_CREDENTIALS: &str = "no AWS credentials found, and uploads are never sent \
    unsigned: give credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or \
    a role), or write to a folder with --out-dir";

/// Said when an unsigned request is refused.
pub const NOT_PUBLIC: &str = "the bucket does not allow anonymous reads (no AWS credentials \
    were found, so requests went unsigned): give credentials (AWS_ACCESS_KEY_ID and \
    AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a role)";

/// The region when nothing configures one: the reference's boto3 resources work there too.
const FALLBACK_REGION: &str = "us-east-1";

/// A configured client and the runtime that drives it.
pub struct S3 {
    // The client is declared first so it drops before the runtime it lives on.
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
    endpoint: String,
    /// Requests go unsigned.
    anonymous: bool,
}

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl S3 {
    /// Resolve the configuration and build the client. Nothing is sent over the network
    /// here except what resolving the region may need (a profile, or instance metadata when
    /// nothing else names a region).
    pub fn connect(settings: &S3Settings) -> Result<S3, String> {
        if let Some(url) = &settings.endpoint
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "the endpoint must be an http:// or https:// URL, got {url:?}"
            ));
        }
        // Two workers are plenty: the work is waiting on sockets, and parsing runs elsewhere.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("testscope-s3")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the S3 runtime: {e}"))?;
        // rustls with ring: no C toolchain (aws-lc) needed to build, trust from the system.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        // The loader's own region and credential chains use this client too (a chain built
        // apart from the loader would have no HTTP client for SSO or instance metadata).
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(creds) = &settings.credentials {
            loader = loader.credentials_provider(creds.clone());
        }
        let mut anonymous = settings.unsigned == Unsigned::Always && settings.credentials.is_none();
        if anonymous {
            loader = loader.no_credentials();
        }
        let mut sdk = runtime.block_on(loader.load());
        if !anonymous {
            // Ask the chain now: a public bucket is read without credentials, an upload is
            // refused before anything is read.
            let found = match sdk.credentials_provider() {
                Some(p) => runtime.block_on(p.provide_credentials()).is_ok(),
                None => false,
            };
            if !found {
                if settings.unsigned == Unsigned::Never {
                    return Err(NO_CREDENTIALS.to_string());
                }
                let mut unsigned = sdk.into_builder();
                unsigned.set_credentials_provider(None);
                sdk = unsigned.build();
                anonymous = true;
            }
        }
        if sdk.region().is_none() {
            sdk = sdk
                .into_builder()
                .region(Region::new(FALLBACK_REGION))
                .build();
        }

        let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(settings.path_style)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .read_timeout(settings.timeout)
                    .build(),
            );
        if let Some(url) = &settings.endpoint {
            conf = conf.endpoint_url(url);
        }
        let custom = configured_endpoint(settings, &sdk);
        if custom.is_some() {
            // Some S3-compatible stores mishandle the SDK's default checksums (and their
            // aws-chunked framing); checksums only where S3 requires them, unless the user
            // asked otherwise through the SDK's own variables.
            if std::env::var_os("AWS_REQUEST_CHECKSUM_CALCULATION").is_none() {
                conf = conf.request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
            }
            if std::env::var_os("AWS_RESPONSE_CHECKSUM_VALIDATION").is_none() {
                conf = conf.response_checksum_validation(ResponseChecksumValidation::WhenRequired);
            }
        }
        let region = sdk
            .region()
            .map_or_else(|| FALLBACK_REGION.to_string(), |r| r.to_string());
        let endpoint = match custom {
            Some(url) => url,
            None => format!("AWS S3 in {region}"),
        };
        Ok(S3 {
            client: aws_sdk_s3::Client::from_conf(conf.build()),
            runtime,
            endpoint,
            anonymous,
        })
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// Whether requests go unsigned (no credentials were found, or `--no-sign-request`).
    pub fn is_anonymous(&self) -> bool {
        self.anonymous
    }

    /// Where requests go, for messages: the endpoint URL, or `AWS S3 in <region>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Run a future on the S3 runtime. Several threads may call this at once.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// The endpoint URL requests go to when it is not AWS's own: the flag, else the variables
/// and profile setting the SDK reads (for messages and the checksum choice).
fn configured_endpoint(settings: &S3Settings, sdk: &aws_config::SdkConfig) -> Option<String> {
    if let Some(url) = &settings.endpoint {
        return Some(url.clone());
    }
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if ignored {
        return None;
    }
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .or_else(|| sdk.endpoint_url().map(str::to_string))
}

/// One line saying why an S3 call failed, with a hint for the usual causes. SDK errors
/// carry no secrets (the signature is never part of an error), and the hints name
/// variables, never their values.
pub fn explain<E>(err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let e = service.err();
            // HEAD answers have no body, so no code: name the usual one for the status.
            let code = e.code().unwrap_or(match status {
                301 => "PermanentRedirect",
                403 => "AccessDenied",
                404 => "NotFound",
                _ => "error",
            });
            let mut out = format!("{code} (HTTP {status})");
            let message = e.message().filter(|m| !m.is_empty());
            if let Some(message) = message {
                out.push_str(": ");
                out.push_str(message);
            }
            match code {
                "NoSuchBucket" if message.is_none() => out.push_str(": the bucket does not exist"),
                "AccessDenied"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "InvalidToken"
                | "TokenRefreshRequired" => out.push_str(
                    " (check the credentials: AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY, and that they may use this bucket)",
                ),
                "PermanentRedirect" | "AuthorizationHeaderMalformed" => out.push_str(
                    " (the bucket is in another region: set AWS_REGION to the bucket's region)",
                ),
                _ => {}
            }
            out
        }
        SdkError::TimeoutError(_) => "timed out (after the SDK's retries)".to_string(),
        SdkError::DispatchFailure(failure) => {
            let detail = chain(err);
            if failure.is_timeout() {
                format!("no answer in time (after the SDK's retries): {detail}")
            } else if failure.is_io() {
                format!("cannot reach the server (after the SDK's retries): {detail}")
            } else if detail.contains("credentials") || detail.contains("identity") {
                no_credentials(&detail)
            } else {
                format!("request failed: {detail}")
            }
        }
        _ => {
            let detail = chain(err);
            if detail.contains("credentials") || detail.contains("identity") {
                no_credentials(&detail)
            } else {
                detail
            }
        }
    }
}

/// The credential chain found nothing usable. The profile's name is shown (it is not a
/// secret); where the chain looked is in `detail`.
fn no_credentials(detail: &str) -> String {
    let profile = match std::env::var("AWS_PROFILE") {
        Ok(p) if !p.is_empty() => format!("profile {p:?} (AWS_PROFILE) gave none; "),
        _ => String::new(),
    };
    format!(
        "no usable AWS credentials ({profile}set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, or log in with `aws sso login`): {detail}"
    )
}

/// An error and its sources, `: `-separated (each level once: wrappers often repeat their
/// source's message).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}
