//! Decryption of large pushes (a discharge summary with scans runs to megabytes) on every core.
//!
//! `aes-gcm` hashes one block at a time, which caps it near a third of what the AES unit can do. For
//! large inputs we run the same construction from the same RustCrypto parts (`aes`, `ctr`, `ghash`):
//! the ciphertext is cut into parts on 48-byte boundaries (whole AES blocks and whole base64 quanta);
//! each thread decodes its part's base64, hashes it with GHASH split into independent lanes, and
//! decrypts it with AES-CTR from the right counter. The partial hashes are joined with powers of H,
//! and the tag is compared in constant time before any plaintext is returned. Tests check it against
//! `aes-gcm` byte for byte.

use aes::cipher::{BlockEncrypt, KeyIvInit, StreamCipher, StreamCipherSeek};
use aes::Aes256;
use ghash::universal_hash::{KeyInit, UniversalHash};
use ghash::{Block, GHash};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::Error;

/// Below this many base64 characters the thread start-up costs more than it saves.
pub(crate) const PARALLEL_THRESHOLD: usize = 1 << 20;
const TAG_LEN: usize = 16;
/// Independent GHASH chains per thread: enough to keep the carry-less multiplier busy.
const LANES: usize = 4;

/// a · b in GHASH's field.
fn mul(a: &Block, b: &Block) -> Block {
    let mut g = GHash::new(b);
    g.update(&[*a]);
    g.finalize()
}

fn xor_into(acc: &mut Block, x: &Block) {
    for (a, b) in acc.iter_mut().zip(x.iter()) {
        *a ^= b;
    }
}

/// h^e, e ≥ 1.
fn pow(h: &Block, mut e: u64) -> Block {
    let mut base = *h;
    let mut result: Option<Block> = None;
    while e > 0 {
        if e & 1 == 1 {
            result = Some(match result {
                None => base,
                Some(r) => mul(&r, &base),
            });
        }
        e >>= 1;
        if e > 0 {
            base = mul(&base, &base);
        }
    }
    result.expect("exponent is at least 1")
}

/// GHASH (without the length block) of `data`, zero-padded to whole blocks, starting from zero:
/// Σ Cⱼ·H^(m−j+1). Leading blocks go through a plain chain until the rest divides into lanes; the
/// lanes then run with key H^LANES and are joined by one multiplication each.
fn ghash_lanes(h: &Block, h_powers: &[Block; LANES], data: &[u8]) -> Block {
    let full = data.len() / 16;
    let mut tail = Block::default();
    tail[..data.len() % 16].copy_from_slice(&data[full * 16..]);
    let block_count = full + usize::from(data.len() % 16 != 0);
    // Block j of the data, the zero-padded tail included.
    let block = |j: usize| -> &Block {
        if j < full {
            Block::from_slice(&data[j * 16..j * 16 + 16])
        } else {
            &tail
        }
    };

    let lead = block_count % LANES;
    let mut head = GHash::new(h);
    for j in 0..lead {
        head.update(std::slice::from_ref(block(j)));
    }
    let head = head.finalize();
    let rest = block_count - lead;
    if rest == 0 {
        return head;
    }
    let key = h_powers[LANES - 1];
    let mut lanes: [GHash; LANES] = std::array::from_fn(|_| GHash::new(&key));
    let last_group = block_count - LANES;
    let mut j = lead;
    while j < last_group {
        for (r, lane) in lanes.iter_mut().enumerate() {
            lane.update(std::slice::from_ref(block(j + r)));
        }
        j += LANES;
    }
    // The last block of lane r carries weight H^(LANES−r); the head is weighted by H^rest.
    let mut total = if lead > 0 {
        mul(&head, &pow(h, rest as u64))
    } else {
        Block::default()
    };
    for (r, lane) in lanes.into_iter().enumerate() {
        let mut m = lane.finalize();
        xor_into(&mut m, block(last_group + r));
        xor_into(&mut total, &mul(&m, &h_powers[LANES - 1 - r]));
    }
    total
}

/// Decodes standard base64 and opens AES-256-GCM in `parts` threads into `out` (replacing its
/// contents, reusing its allocation). `text` must be trimmed and free of whitespace.
pub(crate) fn open_base64_into(
    key: &[u8; 32],
    iv: &[u8; 12],
    text: &str,
    parts: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let chars = text.as_bytes();
    let decoded_len = base64_simd::STANDARD
        .decoded_length(chars)
        .map_err(|e| Error::Base64 {
            what: "ciphertext",
            detail: e.to_string(),
        })?;
    if decoded_len < TAG_LEN {
        return Err(Error::Length {
            what: "ciphertext",
            expected: TAG_LEN,
            actual: decoded_len,
        });
    }
    let ct_len = decoded_len - TAG_LEN;

    let cipher = Aes256::new(key.into());
    let mut h = Block::default();
    cipher.encrypt_block(&mut h);
    let mut j0 = Block::default();
    j0[..12].copy_from_slice(iv);
    j0[15] = 1;
    let mut tag_mask = j0;
    cipher.encrypt_block(&mut tag_mask);
    let mut counter = j0;
    counter[15] = 2;
    let mut h_powers = [h; LANES];
    for k in 1..LANES {
        h_powers[k] = mul(&h_powers[k - 1], &h);
    }

    // Part boundaries in decoded bytes: multiples of 48 (3 bytes per 4 characters, 16 per block).
    let parts = parts.max(1);
    let step = (decoded_len / parts).div_ceil(48) * 48;
    let mut bounds: Vec<usize> = (0..parts).map(|p| (p * step).min(decoded_len)).collect();
    bounds.push(decoded_len);
    bounds.dedup();

    // Decode straight into spare capacity: zero-filling 10 MB first would cost as much as hashing it.
    out.clear();
    out.reserve(decoded_len);
    let mut partial: Vec<Result<(Block, u64), Error>> = Vec::new();
    std::thread::scope(|scope| {
        let mut remaining = &mut out.spare_capacity_mut()[..decoded_len];
        let mut handles = Vec::new();
        for window in bounds.windows(2) {
            let (start, end) = (window[0], window[1]);
            let (mine, rest) = remaining.split_at_mut(end - start);
            remaining = rest;
            let input = &chars[start / 3 * 4..if end == decoded_len {
                chars.len()
            } else {
                end / 3 * 4
            }];
            let (cipher_key, counter, h, h_powers) = (key, counter, h, h_powers);
            handles.push(scope.spawn(move || -> Result<(Block, u64), Error> {
                let expected = mine.len();
                let mine = base64_simd::STANDARD
                    .decode(input, base64_simd::Out::from_uninit_slice(mine))
                    .map_err(|e| Error::Base64 {
                        what: "ciphertext",
                        detail: e.to_string(),
                    })?;
                // Padding inside the text would end a part early: that is not base64 of one value.
                if mine.len() != expected {
                    return Err(Error::Base64 {
                        what: "ciphertext",
                        detail: "padding in the middle".into(),
                    });
                }
                // Only ciphertext bytes are hashed and decrypted; the tag sits in the last part.
                let ct_end = end.min(ct_len).max(start);
                let body = &mut mine[..ct_end - start];
                let hash = ghash_lanes(&h, &h_powers, body);
                let mut ctr = ctr::Ctr32BE::<Aes256>::new(cipher_key.into(), &counter);
                ctr.seek(start as u64);
                ctr.apply_keystream(body);
                Ok((hash, body.len().div_ceil(16) as u64))
            }));
        }
        partial = handles
            .into_iter()
            .map(|h| h.join().expect("decrypt worker panicked"))
            .collect();
    });

    // Σ partᵢ · H^(blocks after it), then the length block, then the mask.
    let mut acc = Block::default();
    for result in partial {
        let (hash, blocks) = result?;
        if blocks > 0 {
            acc = mul(&acc, &pow(&h, blocks));
        }
        xor_into(&mut acc, &hash);
    }
    let mut lengths = Block::default();
    lengths[8..].copy_from_slice(&((ct_len as u64) * 8).to_be_bytes());
    xor_into(&mut acc, &lengths);
    let mut tag = mul(&acc, &h);
    xor_into(&mut tag, &tag_mask);

    // SAFETY: every part decoded exactly its `end - start` bytes (checked above, and any failure
    // returned before this point), so all `decoded_len` bytes are initialised.
    #[allow(unsafe_code)]
    unsafe {
        out.set_len(decoded_len)
    };
    if !bool::from(tag.as_slice().ct_eq(&out[ct_len..])) {
        out.zeroize();
        return Err(Error::Decrypt);
    }
    out.truncate(ct_len);
    Ok(())
}

#[cfg(test)]
fn open_base64(key: &[u8; 32], iv: &[u8; 12], text: &str, parts: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    open_base64_into(key, iv, text, parts, &mut out).map(|()| out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::AeadInPlace;
    use aes_gcm::{Aes256Gcm, Nonce};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn sealed(len: usize) -> ([u8; 32], [u8; 12], Vec<u8>, String) {
        let key = [0x42u8; 32];
        let iv = [0x17u8; 12];
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let mut buf = plaintext.clone();
        let tag = Aes256Gcm::new(&key.into())
            .encrypt_in_place_detached(Nonce::from_slice(&iv), &[], &mut buf)
            .unwrap();
        buf.extend_from_slice(&tag);
        (key, iv, plaintext, STANDARD.encode(buf))
    }

    #[test]
    fn matches_aes_gcm_for_every_length_and_split() {
        for len in [
            0, 1, 15, 16, 17, 47, 48, 49, 63, 64, 65, 100, 1000, 4095, 4096, 65_537,
        ] {
            let (key, iv, plaintext, text) = sealed(len);
            for parts in [1, 2, 3, 7] {
                assert_eq!(
                    open_base64(&key, &iv, &text, parts).unwrap(),
                    plaintext,
                    "len {len}, {parts} parts"
                );
            }
        }
    }

    #[test]
    fn refuses_any_tampering() {
        let (key, iv, _, text) = sealed(5000);
        let raw = STANDARD.decode(&text).unwrap();
        for position in [0, 16, 2499, 4999, 5000, 5015] {
            let mut bad = raw.clone();
            bad[position] ^= 0x04;
            assert_eq!(
                open_base64(&key, &iv, &STANDARD.encode(&bad), 2),
                Err(Error::Decrypt),
                "byte {position}"
            );
        }
        let mut wrong_key = key;
        wrong_key[0] ^= 1;
        assert_eq!(open_base64(&wrong_key, &iv, &text, 2), Err(Error::Decrypt));
        assert!(matches!(
            open_base64(&key, &iv, &("A".repeat(60) + "*AAA"), 2),
            Err(Error::Base64 { .. })
        ));
        assert!(matches!(
            open_base64(&key, &iv, "QUFB", 2),
            Err(Error::Length { .. })
        ));
    }
}
