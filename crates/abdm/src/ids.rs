//! The identifiers a receptionist types, checked before anything goes to ABDM: Aadhaar (12 digits
//! with a Verhoeff check digit), Indian mobile numbers, ABHA numbers (14 digits, written
//! `NN-NNNN-NNNN-NNNN`) and ABHA addresses (`name@sbx` / `name@abdm`). Messages are in plain words
//! for the desk and never echo a full Aadhaar number.

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not 12 digits (how many were typed).
    #[error("Aadhaar number must be 12 digits (got {0})")]
    AadhaarLength(usize),
    /// Starts with 0 or 1 (no Aadhaar does).
    #[error("Aadhaar number cannot start with 0 or 1")]
    AadhaarFirstDigit,
    #[error(
        "this is not a valid Aadhaar number: the last digit does not match (check for a typo)"
    )]
    /// The Verhoeff check digit does not match (a typo).
    AadhaarChecksum,
    /// Not a 10-digit Indian mobile starting with 6–9.
    #[error("mobile number must be 10 digits starting with 6, 7, 8 or 9")]
    Mobile,
    /// Not 14 digits.
    #[error("ABHA number must be 14 digits, like 91-1234-5678-9012")]
    AbhaNumber,
    /// Not a valid ABHA address, and why.
    #[error("ABHA address must look like name@sbx: {0}")]
    AbhaAddress(&'static str),
    /// Not 6 digits.
    #[error("OTP must be 6 digits")]
    Otp,
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const VERHOEFF_INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

fn verhoeff_checksum(digits: &[u8]) -> u8 {
    digits.iter().rev().enumerate().fold(0, |c, (i, &d)| {
        VERHOEFF_D[c as usize][VERHOEFF_P[i % 8][d as usize] as usize]
    })
}

/// The Verhoeff check digit to append to `digits`.
pub fn verhoeff_check_digit(digits: &[u8]) -> u8 {
    let mut with_zero = digits.to_vec();
    with_zero.push(0);
    VERHOEFF_INV[verhoeff_checksum(&with_zero) as usize]
}

fn digits_of(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    compact
        .chars()
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<Vec<u8>>>()
}

/// A checked Aadhaar number (12 digits). `Debug` and `Display` mask all but the last four.
#[derive(Clone, PartialEq, Eq)]
pub struct Aadhaar(String);

impl Aadhaar {
    /// Accepts spaces or dashes between groups (`1234 5678 9012`).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let digits = digits_of(text.trim()).ok_or(IdError::AadhaarLength(text.trim().len()))?;
        if digits.len() != 12 {
            return Err(IdError::AadhaarLength(digits.len()));
        }
        if digits[0] < 2 {
            return Err(IdError::AadhaarFirstDigit);
        }
        if verhoeff_checksum(&digits) != 0 {
            return Err(IdError::AadhaarChecksum);
        }
        Ok(Self(digits.iter().map(|d| char::from(b'0' + d)).collect()))
    }

    /// The 12 digits, for the ABHA service only.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `XXXX XXXX 1234`: the only form that may be shown or logged.
    pub fn masked(&self) -> String {
        format!("XXXX XXXX {}", &self.0[8..])
    }
}

impl std::fmt::Debug for Aadhaar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Aadhaar({})", self.masked())
    }
}

impl std::fmt::Display for Aadhaar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

/// A 10-digit Indian mobile number; `+91`, `91`, `0`, spaces and dashes in front are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// Reads 10 digits, with or without `+91`, spaces or dashes.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let digits = digits_of(text.trim().trim_start_matches('+')).ok_or(IdError::Mobile)?;
        let digits = match digits.len() {
            12 if digits[..2] == [9, 1] => &digits[2..],
            11 if digits[0] == 0 => &digits[1..],
            _ => &digits[..],
        };
        if digits.len() != 10 || digits[0] < 6 {
            return Err(IdError::Mobile);
        }
        Ok(Self(digits.iter().map(|d| char::from(b'0' + d)).collect()))
    }

    /// The 10 digits.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `******3210`, as ABDM shows hints.
    pub fn masked(&self) -> String {
        format!("******{}", &self.0[6..])
    }
}

/// A 14-digit ABHA number, kept in ABDM's dashed form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbhaNumber(String);

impl AbhaNumber {
    /// Accepts `91-1234-5678-9012`, `91 1234 5678 9012` or 14 bare digits.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let digits = digits_of(text.trim()).ok_or(IdError::AbhaNumber)?;
        if digits.len() != 14 {
            return Err(IdError::AbhaNumber);
        }
        let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        Ok(Self(format!(
            "{}-{}-{}-{}",
            &s[..2],
            &s[2..6],
            &s[6..10],
            &s[10..]
        )))
    }

    /// `NN-NNNN-NNNN-NNNN`.
    pub fn dashed(&self) -> &str {
        &self.0
    }

    /// The 14 digits without dashes.
    pub fn bare(&self) -> String {
        self.0.replace('-', "")
    }
}

impl std::fmt::Display for AbhaNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ABHA address: 4–32 characters of letters, digits, `.` and `_` (not at the ends), then `@` and
/// the consent manager's suffix. A bare name gets `default_suffix`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbhaAddress(String);

impl AbhaAddress {
    /// Reads an address; a bare name gets `default_suffix`.
    pub fn parse(text: &str, default_suffix: &str) -> Result<Self, IdError> {
        let text = text.trim().to_ascii_lowercase();
        let (name, suffix) = match text.split_once('@') {
            Some((n, s)) => (n.to_string(), s.to_string()),
            None => (text.clone(), default_suffix.to_string()),
        };
        if !(4..=32).contains(&name.len()) {
            return Err(IdError::AbhaAddress(
                "the name before @ must be 4 to 32 characters",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(IdError::AbhaAddress(
                "only letters, digits, '.' and '_' are allowed",
            ));
        }
        if name.starts_with(['.', '_']) || name.ends_with(['.', '_']) {
            return Err(IdError::AbhaAddress(
                "it cannot start or end with '.' or '_'",
            ));
        }
        if suffix.is_empty() || !suffix.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(IdError::AbhaAddress(
                "the part after @ must be letters or digits, like sbx",
            ));
        }
        Ok(Self(format!("{name}@{suffix}")))
    }

    /// An address that must carry its `@suffix` (as printed on cards and QR codes).
    pub fn parse_qualified(text: &str) -> Result<Self, IdError> {
        if !text.contains('@') {
            return Err(IdError::AbhaAddress(
                "it must end with @ and the consent manager's suffix, like name@abdm",
            ));
        }
        Self::parse(text, "")
    }

    /// `name@suffix`, lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AbhaAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Either form of ABHA identity, as a receptionist may type it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AbhaId {
    /// An ABHA number.
    Number(AbhaNumber),
    /// An ABHA address.
    Address(AbhaAddress),
}

impl AbhaId {
    /// An address when it has letters or `@`, a number otherwise.
    pub fn parse(text: &str, default_suffix: &str) -> Result<Self, IdError> {
        if text.contains('@') || text.chars().any(|c| c.is_ascii_alphabetic()) {
            AbhaAddress::parse(text, default_suffix).map(AbhaId::Address)
        } else {
            AbhaNumber::parse(text).map(AbhaId::Number)
        }
    }

    /// The dashed number or the address.
    pub fn as_str(&self) -> &str {
        match self {
            AbhaId::Number(n) => n.dashed(),
            AbhaId::Address(a) => a.as_str(),
        }
    }
}

/// Checks a 6-digit OTP.
pub fn check_otp(text: &str) -> Result<String, IdError> {
    let t = text.trim();
    if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t.to_string())
    } else {
        Err(IdError::Otp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadhaar_checksum() {
        // Check digits computed by the algorithm, and UIDAI's published test number.
        let base = [2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2];
        let check = verhoeff_check_digit(&base);
        let number: String = base
            .iter()
            .chain([check].iter())
            .map(|d| char::from(b'0' + d))
            .collect();
        assert!(Aadhaar::parse(&number).is_ok());
        assert!(Aadhaar::parse("9999 4105 7058").is_ok());
        let wrong = format!("{}{}", &number[..11], (check + 1) % 10);
        assert_eq!(Aadhaar::parse(&wrong), Err(IdError::AadhaarChecksum));
        // Any single-digit typo is caught.
        for i in 0..12 {
            let mut d: Vec<u8> = number.bytes().map(|b| b - b'0').collect();
            d[i] = (d[i] + 3) % 10;
            let typo: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            assert!(Aadhaar::parse(&typo).is_err(), "{typo}");
        }
        assert_eq!(Aadhaar::parse("12345"), Err(IdError::AadhaarLength(5)));
        assert_eq!(
            Aadhaar::parse("1234 5678 9012"),
            Err(IdError::AadhaarFirstDigit)
        );
        assert!(format!("{:?}", Aadhaar::parse("999941057058").unwrap()).contains("XXXX XXXX 7058"));
    }

    #[test]
    fn mobiles_abha_numbers_and_addresses() {
        assert_eq!(
            Mobile::parse("+91 98765-43210").unwrap().digits(),
            "9876543210"
        );
        assert_eq!(Mobile::parse("09876543210").unwrap().masked(), "******3210");
        assert_eq!(Mobile::parse("5876543210"), Err(IdError::Mobile));
        assert_eq!(Mobile::parse("98765"), Err(IdError::Mobile));
        assert_eq!(
            AbhaNumber::parse("91123456789012").unwrap().dashed(),
            "91-1234-5678-9012"
        );
        assert_eq!(
            AbhaNumber::parse("91-1234-5678-901"),
            Err(IdError::AbhaNumber)
        );
        assert_eq!(
            AbhaAddress::parse("Asha.Kumari", "sbx").unwrap().as_str(),
            "asha.kumari@sbx"
        );
        assert!(AbhaAddress::parse("ab@sbx", "sbx").is_err());
        assert!(AbhaAddress::parse("asha kumari@sbx", "sbx").is_err());
        assert!(AbhaAddress::parse(".asha@sbx", "sbx").is_err());
        assert!(matches!(
            AbhaId::parse("91-1234-5678-9012", "sbx"),
            Ok(AbhaId::Number(_))
        ));
        assert!(matches!(
            AbhaId::parse("asha@abdm", "sbx"),
            Ok(AbhaId::Address(_))
        ));
        assert_eq!(check_otp(" 123456 "), Ok("123456".into()));
        assert_eq!(check_otp("12345a"), Err(IdError::Otp));
    }
}
