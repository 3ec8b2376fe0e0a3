//! Typed errors and their BOS-style rendering.
//!
//! Every failure the filter can report to a client is a [`ProcessError`]: an
//! [`ErrorCode`] (which fixes the HTTP status and the `code` field of the body)
//! plus a message that names the action and key at fault. The filter and the
//! `imgproc` CLI print the same code and message for the same input.
//!
//! The body follows the BCE common error format:
//! `{"code":"InvalidArgument","message":"...","requestId":"..."}`.

use std::fmt;

/// What went wrong, split by who is at fault. Each code maps to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: an action, key or value the grammar or a range does not allow,
    /// a repeated key, or more than 16 actions.
    InvalidArgument,
    /// 400: an action lacks a key it needs (e.g. `resize,m_fixed,w_10` without `h`).
    MissingArgument,
    /// 404: `style/<name>` names no configured style.
    NoSuchStyle,
    /// 404: an object the command needs (a watermark image or font, the
    /// `system/load` source) does not exist.
    NoSuchKey,
    /// 404: the storage has no bucket to save a `system/save` result into.
    NoSuchBucket,
    /// 400: the source or a result breaks a size limit (bytes, sides, pixels).
    ImageTooLarge,
    /// 400: the body is not an image we can decode (unknown magic, corrupt data).
    InvalidImage,
    /// 400: a valid format name this build cannot decode or encode.
    UnsupportedFormat,
    /// 501: an action or key of the BOS language that this build does not implement yet.
    NotImplemented,
    /// 500: an encoder or the host failed in a way the request could not cause.
    InternalError,
    /// 502: the storage failed while the filter read the original itself
    /// (`local_reply` mode): the connection was refused or reset, or the body
    /// ended early.
    BadGateway,
    /// 504: the storage did not answer the filter's own read of the original
    /// within `original_read_timeout_ms` (`local_reply` mode).
    GatewayTimeout,
    /// 403: original-image protection refuses an unsigned request (the original,
    /// or free-form processing where only styles are public), or the storage
    /// refused an object the command needs.
    AccessDenied,
    /// 403: the signature does not match the request.
    SignatureDoesNotMatch,
    /// 403: the signing time plus its validity period is in the past.
    RequestExpired,
    /// 403: the signing time is further in the future than the allowed clock skew.
    RequestTimeTooSkewed,
    /// 403: the access key of the signature is not configured.
    InvalidAccessKeyId,
    /// 400: an `Authorization` header or presigned query that is not a
    /// well-formed BCE v1 or SigV4 signature.
    InvalidHTTPAuthHeader,
}

impl ErrorCode {
    /// The HTTP status sent with this error.
    pub(crate) fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument
            | ErrorCode::MissingArgument
            | ErrorCode::ImageTooLarge
            | ErrorCode::InvalidImage
            | ErrorCode::UnsupportedFormat
            | ErrorCode::InvalidHTTPAuthHeader => 400,
            ErrorCode::AccessDenied
            | ErrorCode::SignatureDoesNotMatch
            | ErrorCode::RequestExpired
            | ErrorCode::RequestTimeTooSkewed
            | ErrorCode::InvalidAccessKeyId => 403,
            ErrorCode::NoSuchStyle | ErrorCode::NoSuchKey | ErrorCode::NoSuchBucket => 404,
            ErrorCode::NotImplemented => 501,
            ErrorCode::InternalError => 500,
            ErrorCode::BadGateway => 502,
            ErrorCode::GatewayTimeout => 504,
        }
    }

    /// The `code` field of the JSON body.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::MissingArgument => "MissingArgument",
            ErrorCode::NoSuchStyle => "NoSuchStyle",
            ErrorCode::NoSuchKey => "NoSuchKey",
            ErrorCode::NoSuchBucket => "NoSuchBucket",
            ErrorCode::ImageTooLarge => "ImageTooLarge",
            ErrorCode::InvalidImage => "InvalidImage",
            ErrorCode::UnsupportedFormat => "UnsupportedFormat",
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::BadGateway => "BadGateway",
            ErrorCode::GatewayTimeout => "GatewayTimeout",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            ErrorCode::RequestExpired => "RequestExpired",
            ErrorCode::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            ErrorCode::InvalidAccessKeyId => "InvalidAccessKeyId",
            ErrorCode::InvalidHTTPAuthHeader => "InvalidHTTPAuthHeader",
        }
    }
}

/// An error with its code and a message meant for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessError {
    pub code: ErrorCode,
    pub message: String,
}

impl ProcessError {
    #[cold]
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProcessError {
            code,
            message: message.into(),
        }
    }

    #[cold]
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    #[cold]
    pub(crate) fn missing(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MissingArgument, message)
    }

    #[cold]
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ImageTooLarge, message)
    }

    #[cold]
    pub(crate) fn bad_image(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidImage, message)
    }

    #[cold]
    pub(crate) fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotImplemented, message)
    }

    #[cold]
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// Whether the detail of this error is the server's own (a 5xx other than
    /// 501): clients get a fixed message and the request id, the log gets
    /// the detail.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn is_server_fault(&self) -> bool {
        self.http_status() >= 500 && self.code != ErrorCode::NotImplemented
    }

    /// The message a client sees: the error's own for 4xx and 501 (they
    /// describe the request), a fixed one per code for the server's faults
    /// (their detail, such as a cluster name or a host status, is logged
    /// with the request id instead).
    pub(crate) fn public_message(&self) -> &str {
        match self.code {
            ErrorCode::InternalError => {
                "We encountered an internal error. Please try again, or report the request id."
            }
            ErrorCode::BadGateway => "The storage failed before the whole original arrived.",
            ErrorCode::GatewayTimeout => "The storage did not answer in time.",
            _ => &self.message,
        }
    }

    /// The BCE-style JSON body. `request_id` is the proxy's request id, or
    /// empty. The message is [`ProcessError::public_message`].
    pub fn to_json(&self, request_id: &str) -> String {
        serde_json::json!({
            "code": self.code.as_str(),
            "message": self.public_message(),
            "requestId": request_id,
        })
        .to_string()
    }
}

impl fmt::Display for ProcessError {
    /// One line: `<Code>: <message>`, as `imgproc` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ProcessError {}

pub type Result<T> = std::result::Result<T, ProcessError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_faults_keep_their_detail_out_of_the_body() {
        let e = ProcessError::new(
            ErrorCode::InternalError,
            "watermark: dispatch_http_call to cluster 'storage' failed: host status BadArgument",
        );
        let body = e.to_json("req-42");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "InternalError");
        assert_eq!(v["requestId"], "req-42");
        assert!(
            !body.contains("storage") && !body.contains("BadArgument"),
            "{body}"
        );
        for code in [ErrorCode::BadGateway, ErrorCode::GatewayTimeout] {
            let body =
                ProcessError::new(code, "cluster originals reset 10.0.0.7:9000").to_json("r");
            assert!(
                !body.contains("10.0.0.7") && !body.contains("originals"),
                "{body}"
            );
        }
        // 4xx and 501 describe the request: their message is kept.
        let e = ProcessError::new(ErrorCode::InvalidArgument, "resize: w_0 is out of range");
        assert!(e.to_json("r").contains("resize: w_0 is out of range"));
        let e = ProcessError::new(ErrorCode::NotImplemented, "action 'foo' is not built");
        assert!(e.to_json("r").contains("action 'foo'"));
        assert!(!e.is_server_fault());
    }

    #[test]
    fn json_body_has_bce_fields() {
        let e = ProcessError::invalid("resize: unknown key 'q'");
        let v: serde_json::Value = serde_json::from_str(&e.to_json("abc")).unwrap();
        assert_eq!(v["code"], "InvalidArgument");
        assert_eq!(v["message"], "resize: unknown key 'q'");
        assert_eq!(v["requestId"], "abc");
        assert_eq!(e.http_status(), 400);
    }

    #[test]
    fn statuses_follow_codes() {
        assert_eq!(ErrorCode::NoSuchStyle.http_status(), 404);
        assert_eq!(ErrorCode::NotImplemented.http_status(), 501);
        assert_eq!(ErrorCode::InternalError.http_status(), 500);
        assert_eq!(ErrorCode::ImageTooLarge.http_status(), 400);
    }
}
