//! OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: CIPHER,IV`), as `openssl genrsa -aes256`
//! and `openssl ec -aes256` write it: the key is EVP_BytesToKey(MD5, password, salt = first 8 bytes of the IV,
//! 1 round), the body is CBC with PKCS#7 padding. AES-128/192/256-CBC and DES-EDE3-CBC are supported.

use std::path::Path;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, KeyIvInit};
use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};
use rustls::pki_types::PrivateKeyDer;

use super::keys::{files_failure, password_for, wrong_password, PasswordWait};
use crate::exit::Failure;

/// EVP_BytesToKey with MD5 and one round: D_1 = MD5(pass || salt), D_i = MD5(D_{i-1} || pass || salt).
pub(super) fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while key.len() < len {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(password);
        h.update(salt);
        prev = h.finalize().to_vec();
        key.extend_from_slice(&prev);
    }
    key.truncate(len);
    key
}

fn cbc<C>(key: &[u8], iv: &[u8], data: &mut [u8]) -> Option<usize>
where
    cbc::Decryptor<C>: KeyIvInit + BlockDecryptMut,
    C: aes::cipher::BlockCipher + aes::cipher::BlockDecryptMut,
{
    let d = <cbc::Decryptor<C> as KeyIvInit>::new_from_slices(key, iv).ok()?;
    d.decrypt_padded_mut::<Pkcs7>(data).ok().map(<[u8]>::len)
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Decrypts the first legacy-encrypted private key block of `text`.
pub(super) fn decrypt(
    text: &str,
    path: &Path,
    given: &Option<String>,
    wait: &PasswordWait,
) -> Result<PrivateKeyDer<'static>, Failure> {
    let bad = |why: &str| files_failure(format!("private key {}: {why}", path.display()));
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .ok_or_else(|| bad("no PEM block"))?
        .to_string();
    let mut dek = None;
    let mut body = String::new();
    for line in lines.by_ref() {
        if line.starts_with("-----END ") {
            break;
        }
        if let Some(v) = line.strip_prefix("DEK-Info:") {
            dek = Some(v.trim().to_string());
        } else if !line.contains(':') {
            body.push_str(line);
        }
    }
    let dek = dek.ok_or_else(|| bad("encrypted PEM without DEK-Info"))?;
    let (cipher, iv_hex) = dek.split_once(',').ok_or_else(|| bad("bad DEK-Info"))?;
    let iv = hex(iv_hex.trim()).ok_or_else(|| bad("bad IV in DEK-Info"))?;
    let key_len = match cipher {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        "DES-EDE3-CBC" => 24,
        other => {
            return Err(bad(&format!(
                "cipher {other} is not supported (AES-128/192/256-CBC, DES-EDE3-CBC are); convert the key with \
                 `openssl pkey -in KEY -out key.pem -aes256`"
            )))
        }
    };
    let salt = iv.get(..8).ok_or_else(|| bad("IV shorter than 8 bytes"))?;
    let mut data = Base64::decode_vec(&body).map_err(|_| bad("bad base64"))?;
    let password = password_for(path, given, wait)?;
    let key = bytes_to_key(password.as_bytes(), salt, key_len);
    let n = match cipher {
        "AES-128-CBC" => cbc::<aes::Aes128>(&key, &iv, &mut data),
        "AES-192-CBC" => cbc::<aes::Aes192>(&key, &iv, &mut data),
        "AES-256-CBC" => cbc::<aes::Aes256>(&key, &iv, &mut data),
        _ => cbc::<des::TdesEde3>(&key, &iv, &mut data),
    }
    .ok_or_else(|| wrong_password(path, "bad padding after decryption"))?;
    data.truncate(n);
    let key = match label.as_str() {
        "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(data.into()),
        "EC PRIVATE KEY" => PrivateKeyDer::Sec1(data.into()),
        "PRIVATE KEY" => PrivateKeyDer::Pkcs8(data.into()),
        other => return Err(bad(&format!("unexpected PEM label {other}"))),
    };
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -k s3cret -S 0102030405060708 -P -md md5`
        let key = bytes_to_key(b"s3cret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        let hex: String = key.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(
            hex,
            "04D7471BA4A9314395A3FE2D5788E5B5CB8BA23A1DFD5F1D1DD4D950C54E7194"
        );
    }
}
