//! `fidelius`: a drop-in replacement for fidelius-cli (`gkm`, `e`, `se`, `d`), same arguments and JSON.
//!
//! Where fidelius-cli is wrong we are right: a failed tag check (or any bad input) exits non-zero with
//! a message on stderr, instead of printing an empty plaintext and exiting 0.

use std::io::Read;
use std::process::ExitCode;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use fidelius::{Error, KeyEncoding, KeyMaterial, Nonce, PublicKey, SecretKey, Session};

const HELP: &str = "\
fidelius — ABDM health-data encryption (ECDH Curve25519 + HKDF-SHA256 + AES-256-GCM),
byte-compatible with the Java fidelius-cli, with the same commands, argument order and JSON output.

USAGE:
  fidelius gkm
      (generate-key-material) A new key pair and nonce:
      {\"privateKey\", \"publicKey\", \"x509PublicKey\", \"nonce\"}
      privateKey is Fidelius's form (base64 of Java BigInteger bytes); publicKey is the raw
      65-byte point (88 characters); x509PublicKey is BouncyCastle's X.509 form (412 characters).

  fidelius e <string-to-encrypt> <sender-nonce> <requester-nonce> <sender-private-key> <requester-public-key>
      (encrypt) Encrypts the UTF-8 bytes of the string: {\"encryptedData\"}.

  fidelius se <base64-of-string> <sender-nonce> <requester-nonce> <sender-private-key> <requester-public-key>
      (sane-encrypt) As e, but the plaintext is given base64-encoded, so nothing needs escaping.

  fidelius d <encrypted-data> <requester-nonce> <sender-nonce> <requester-private-key> <sender-public-key>
      (decrypt) Note the nonce order: the requester's own nonce comes first. {\"decryptedData\"}.

  fidelius --help | --version

ARGUMENTS:
  Nonces are base64 of 32 bytes. Public keys may be either wire form (raw or X.509); private keys
  are Fidelius's form as printed by gkm. Any one argument may be given as - to read it from
  standard input (for payloads larger than the command line allows).

EXIT STATUS:
  0 on success; 1 when the input is invalid or decryption fails (the tag does not match: the data
  was altered or the keys or nonces are wrong), with the reason on stderr; 2 on a usage error.
";

enum Failure {
    Usage(String),
    Input(Error),
    Invalid(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Input(e)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(message)) => {
            eprintln!("fidelius: {message}\nRun `fidelius --help` for usage.");
            ExitCode::from(2)
        }
        Err(Failure::Input(e)) => {
            eprintln!("fidelius: error: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Invalid(message)) => {
            eprintln!("fidelius: error: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(mut args: Vec<String>) -> Result<String, Failure> {
    if args.is_empty() {
        return Err(Failure::Usage("no command given".into()));
    }
    read_stdin_argument(&mut args)?;
    let command = args.remove(0);
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(HELP.trim_end().to_string()),
        "-V" | "--version" => Ok(format!("fidelius {}", env!("CARGO_PKG_VERSION"))),
        "gkm" | "generate-key-material" => {
            expect_arguments(&command, &args, 0)?;
            Ok(generate_key_material())
        }
        "e" | "encrypt" => {
            expect_arguments(&command, &args, 5)?;
            encrypt(args[0].as_bytes(), &args[1..])
        }
        "se" | "sane-encrypt" => {
            expect_arguments(&command, &args, 5)?;
            let plaintext = decode_base64_argument("string to encrypt (base64)", &args[0])?;
            encrypt(&plaintext, &args[1..])
        }
        "d" | "decrypt" => {
            expect_arguments(&command, &args, 5)?;
            decrypt(&args)
        }
        other => Err(Failure::Usage(format!("unknown command `{other}`"))),
    }
}

/// Replaces a lone `-` argument by standard input (without its final newline).
fn read_stdin_argument(args: &mut [String]) -> Result<(), Failure> {
    let dashes = args.iter().filter(|a| *a == "-").count();
    if dashes > 1 {
        return Err(Failure::Usage(
            "only one argument can be read from standard input".into(),
        ));
    }
    if let Some(slot) = args.iter_mut().find(|a| *a == "-") {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| Failure::Invalid(format!("could not read standard input: {e}")))?;
        let trimmed_len = input.trim_end_matches(['\n', '\r']).len();
        input.truncate(trimmed_len);
        *slot = input;
    }
    Ok(())
}

fn expect_arguments(command: &str, args: &[String], count: usize) -> Result<(), Failure> {
    if args.len() != count {
        return Err(Failure::Usage(format!(
            "`{command}` takes {count} argument{}, but {} {} given",
            if count == 1 { "" } else { "s" },
            args.len(),
            if args.len() == 1 { "was" } else { "were" },
        )));
    }
    // An empty plaintext is legal (it encrypts to the tag alone); no other argument may be empty.
    let plaintext_first = matches!(command, "e" | "encrypt" | "se" | "sane-encrypt");
    let empty = args
        .iter()
        .enumerate()
        .position(|(i, a)| a.is_empty() && !(plaintext_first && i == 0));
    if let Some(position) = empty {
        let names = argument_names(command);
        let name = names.get(position).copied().unwrap_or("an argument");
        return Err(Failure::Usage(format!("the {name} argument is empty")));
    }
    Ok(())
}

fn argument_names(command: &str) -> &'static [&'static str] {
    match command {
        "e" | "encrypt" | "se" | "sane-encrypt" => &[
            "string-to-encrypt",
            "sender-nonce",
            "requester-nonce",
            "sender-private-key",
            "requester-public-key",
        ],
        "d" | "decrypt" => &[
            "encrypted-data",
            "requester-nonce",
            "sender-nonce",
            "requester-private-key",
            "sender-public-key",
        ],
        _ => &[],
    }
}

fn decode_base64_argument(what: &str, text: &str) -> Result<Vec<u8>, Failure> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    STANDARD
        .decode(text.trim())
        .map_err(|e| Failure::Invalid(format!("{what} is not valid base64 ({e})")))
}

fn generate_key_material() -> String {
    let material = KeyMaterial::generate();
    let public = material.public_key();
    json_object(&[
        ("privateKey", material.secret.to_fidelius_base64()),
        ("publicKey", public.to_base64(KeyEncoding::Raw)),
        ("x509PublicKey", public.to_base64(KeyEncoding::X509)),
        ("nonce", material.nonce.to_base64()),
    ])
}

/// `[sender-nonce, requester-nonce, sender-private-key, requester-public-key]`.
fn encrypt(plaintext: &[u8], args: &[String]) -> Result<String, Failure> {
    let sender_nonce = parse_nonce("sender nonce", &args[0])?;
    let requester_nonce = parse_nonce("requester nonce", &args[1])?;
    let sender_secret = parse_private("sender private key", &args[2])?;
    let requester_public = parse_public("requester public key", &args[3])?;
    let session = Session::derive(
        &sender_secret,
        &requester_public,
        &sender_nonce,
        &requester_nonce,
    )?;
    Ok(json_object(&[(
        "encryptedData",
        session.seal_base64(plaintext),
    )]))
}

/// `[encrypted-data, requester-nonce, sender-nonce, requester-private-key, sender-public-key]`.
fn decrypt(args: &[String]) -> Result<String, Failure> {
    let requester_nonce = parse_nonce("requester nonce", &args[1])?;
    let sender_nonce = parse_nonce("sender nonce", &args[2])?;
    let requester_secret = parse_private("requester private key", &args[3])?;
    let sender_public = parse_public("sender public key", &args[4])?;
    let session = Session::derive(
        &requester_secret,
        &sender_public,
        &requester_nonce,
        &sender_nonce,
    )?;
    let plaintext = session.open_base64(&args[0])?;
    Ok(json_object(&[(
        "decryptedData",
        String::from_utf8_lossy(&plaintext).into_owned(),
    )]))
}

/// Errors from the library name the kind of value; the CLI adds which argument it was.
fn with_argument<T>(what: &str, result: Result<T, Error>) -> Result<T, Failure> {
    result.map_err(|e| Failure::Invalid(format!("{what}: {e}")))
}

fn parse_nonce(what: &str, text: &str) -> Result<Nonce, Failure> {
    with_argument(what, Nonce::parse(text))
}

fn parse_private(what: &str, text: &str) -> Result<SecretKey, Failure> {
    with_argument(what, SecretKey::from_fidelius_base64(text))
}

fn parse_public(what: &str, text: &str) -> Result<PublicKey, Failure> {
    with_argument(what, PublicKey::parse(text))
}

/// Pretty JSON with two-space indentation and the fields in the given order, as fidelius-cli prints.
fn json_object(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "  {}: {}",
                serde_json::Value::from(*k),
                serde_json::Value::from(v.as_str())
            )
        })
        .collect();
    format!("{{\n{}\n}}", body.join(",\n"))
}
