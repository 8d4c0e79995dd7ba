//! The stream's frames.
//!
//! * server → desk, text: [`Hello`] once, or a [`Refusal`] instead of the stream;
//! * server → desk, binary: a message — `u32` (big-endian) header length, the JSON
//!   [`MessageHeader`], then the sealed body ([`crate::seal`]);
//! * desk → server, text: [`ClientFrame::Ack`] (cumulative).
//!
//! A message's bytes are exactly what the relay stored: it never re-encodes a body, so whatever it
//! accepted at ingest reaches the desk unchanged.

use serde::{Deserialize, Serialize};

/// Sent once when a stream opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// The clinic the token belongs to.
    pub clinic: String,
    /// The highest acknowledged `seq`.
    pub acked: u64,
    /// Messages waiting.
    pub depth: u64,
}

/// What the relay says when it will not stream (as the HTTP body of a 409).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// A stable code, e.g. `desk-ahead`.
    pub code: String,
    /// Plain words for the clinic's admin.
    pub message: String,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// A gateway → HIP/HIU call.
    Gateway,
    /// A HIP → HIU data push to one of the clinic's push paths.
    Push,
}

/// A stored message's header (the body follows, sealed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageHeader {
    /// Per clinic, gapless, in commit order.
    pub seq: u64,
    /// A random id the relay gave the message: with `seq`, it tells the relay on a resume that the
    /// desk and the relay speak of the same message.
    pub id: u64,
    /// When the relay stored it (RFC 3339).
    pub received_at: String,
    /// The path ABDM called, below the relay's base (e.g. `/v0.5/users/auth/on-init`).
    pub path: String,
    /// `X-HIP-ID` or `X-HIU-ID` of the call, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Which route it came in on.
    pub kind: MessageKind,
    /// The call's `REQUEST-ID` header, when ABDM sent one (v3 keeps it out of the body, and a
    /// HIP answers a request by naming it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl MessageHeader {
    /// The associated data the body is sealed with: it binds the body to its clinic, route and
    /// request id (a message without one seals as before request ids were kept).
    pub fn seal_aad(
        clinic: &str,
        path: &str,
        kind: MessageKind,
        request_id: Option<&str>,
    ) -> Vec<u8> {
        let kind = match kind {
            MessageKind::Gateway => "gateway",
            MessageKind::Push => "push",
        };
        match request_id {
            Some(id) => format!("{clinic}\n{kind}\n{path}\n{id}").into_bytes(),
            None => format!("{clinic}\n{kind}\n{path}").into_bytes(),
        }
    }
}

/// Encodes a message frame.
pub fn encode_message(header: &MessageHeader, sealed: &[u8]) -> Vec<u8> {
    let head = serde_json::to_vec(header).expect("headers serialize");
    let mut out = Vec::with_capacity(4 + head.len() + sealed.len());
    out.extend_from_slice(&(head.len() as u32).to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(sealed);
    out
}

/// Splits a message frame into its header and its sealed body.
pub fn decode_message(frame: &[u8]) -> Result<(MessageHeader, &[u8]), String> {
    let len = frame
        .get(..4)
        .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
        .ok_or("a message frame shorter than its length field")?;
    let head = frame
        .get(4..4usize.saturating_add(len))
        .ok_or("a message frame shorter than its header")?;
    let header: MessageHeader =
        serde_json::from_slice(head).map_err(|e| format!("an unreadable message header: {e}"))?;
    Ok((header, &frame[4 + len..]))
}

/// Desk → relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientFrame {
    /// Everything up to `seq` is committed at the desk.
    Ack {
        /// The highest committed `seq`.
        seq: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_frame_round_trips_and_junk_is_an_error() {
        let header = MessageHeader {
            seq: 7,
            id: 99,
            received_at: "2026-12-01T10:00:00.000Z".into(),
            path: "/v0.5/users/auth/on-init".into(),
            service_id: Some("IN1".into()),
            kind: MessageKind::Gateway,
            request_id: Some("5f7a535d-a3fd-416b-b069-c97d021fbacd".into()),
        };
        let frame = encode_message(&header, b"sealed");
        let (h, body) = decode_message(&frame).unwrap();
        assert_eq!((h, body), (header, &b"sealed"[..]));
        assert!(decode_message(&[0, 0]).is_err());
        assert!(decode_message(&[0, 0, 0, 9, b'{']).is_err());
        assert!(decode_message(&[0, 0, 0, 1, b'x']).is_err());
    }
}
