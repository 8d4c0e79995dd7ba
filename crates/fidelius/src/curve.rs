//! Curve25519 in the two shapes that meet in ABDM: X25519's Montgomery form (what `x25519-dalek`
//! computes with) and BouncyCastle's short-Weierstrass form (what Fidelius puts on the wire).
//!
//! The forms are isomorphic: `x = u + A/3 (mod p)`, `y = v`. Only the field arithmetic needed to
//! move points and shared secrets across that map lives here.

use crypto_bigint::modular::constant_mod::{Residue, ResidueParams};
use crypto_bigint::{impl_modulus, Encoding, U256};

impl_modulus!(
    P25519,
    U256,
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed"
);

type Fe = Residue<P25519, { U256::LIMBS }>;

/// p = 2²⁵⁵ − 19.
const P: U256 = P25519::MODULUS;
/// δ = A/3 mod p: the shift between Montgomery u and Weierstrass x.
const DELTA: U256 =
    U256::from_be_hex("2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad2451");
/// Weierstrass a = (3 − A²)/3.
const WEIERSTRASS_A: U256 =
    U256::from_be_hex("2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa984914a144");
/// Weierstrass b = (2A³ − 9A)/27.
const WEIERSTRASS_B: U256 =
    U256::from_be_hex("7b425ed097b425ed097b425ed097b425ed097b425ed097b4260b5e9c7710c864");
/// √−1 = 2^((p−1)/4).
const SQRT_MINUS_ONE: U256 =
    U256::from_be_hex("2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0");
/// (p+3)/8, the exponent of the square-root candidate for p ≡ 5 (mod 8).
const SQRT_EXPONENT: U256 =
    U256::from_be_hex("0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe");

fn fe(v: &U256) -> Fe {
    Fe::new(v)
}

/// y² for the Weierstrass x: x³ + a·x + b.
fn curve_rhs(x: Fe) -> Fe {
    x.square() * x + fe(&WEIERSTRASS_A) * x + fe(&WEIERSTRASS_B)
}

/// Why a candidate point was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointError {
    CoordinateOutOfRange,
    NotOnCurve,
}

/// A Weierstrass point whose coordinates are checked to satisfy the curve equation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WeierstrassPoint {
    pub x: [u8; 32],
    pub y: [u8; 32],
}

impl WeierstrassPoint {
    /// Accepts big-endian coordinates only when both are below p and the point is on the curve.
    pub fn from_coordinates(x: [u8; 32], y: [u8; 32]) -> Result<Self, PointError> {
        let xu = U256::from_be_slice(&x);
        let yu = U256::from_be_slice(&y);
        if xu >= P || yu >= P {
            return Err(PointError::CoordinateOutOfRange);
        }
        if fe(&yu).square() != curve_rhs(fe(&xu)) {
            return Err(PointError::NotOnCurve);
        }
        Ok(Self { x, y })
    }

    /// The point whose Montgomery u is given (little-endian, as `x25519-dalek` stores it), with the even
    /// square root as y. `None` when u lies on the quadratic twist (never for keys made by X25519).
    pub fn from_montgomery_u(u_le: &[u8; 32]) -> Option<Self> {
        let x = montgomery_u_to_weierstrass_x(u_le);
        let rhs = curve_rhs(fe(&U256::from_be_slice(&x)));
        let mut root = rhs.pow(&SQRT_EXPONENT);
        if root.square() != rhs {
            root *= fe(&SQRT_MINUS_ONE);
            if root.square() != rhs {
                return None;
            }
        }
        let mut y = root.retrieve();
        if y.bit_vartime(0) {
            y = P.wrapping_sub(&y);
        }
        Some(Self {
            x,
            y: y.to_be_bytes(),
        })
    }

    /// The Montgomery u of this point, little-endian (an `x25519_dalek::PublicKey`'s bytes).
    pub fn montgomery_u(&self) -> [u8; 32] {
        let x = U256::from_be_slice(&self.x);
        x.sub_mod(&DELTA, &P).to_le_bytes()
    }

    /// SEC1 uncompressed encoding: `04 ‖ x ‖ y`, fixed-width coordinates.
    pub fn to_sec1(self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&self.x);
        out[33..].copy_from_slice(&self.y);
        out
    }
}

/// Maps an X25519 output u (little-endian) to the big-endian Weierstrass x that BouncyCastle's ECDH
/// returns. `add_mod` is constant-time, which matters because this runs on the shared secret.
pub(crate) fn montgomery_u_to_weierstrass_x(u_le: &[u8; 32]) -> [u8; 32] {
    let u = U256::from_le_slice(u_le);
    u.add_mod(&DELTA, &P).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE_U: [u8; 32] = {
        let mut u = [0u8; 32];
        u[0] = 9;
        u
    };

    #[test]
    fn base_point_maps_to_bouncycastle_generator() {
        let g = WeierstrassPoint::from_montgomery_u(&BASE_U).unwrap();
        assert_eq!(
            U256::from_be_slice(&g.x),
            U256::from_be_hex("2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad245a")
        );
        // BouncyCastle's G.y is odd; the even root is its negation.
        let bc_y =
            U256::from_be_hex("20ae19a1b8a086b4e01edd2c7748d14c923d4d7e6d7c61b229e9c5a27eced3d9");
        let y = U256::from_be_slice(&g.y);
        assert!(y == bc_y || y == P.wrapping_sub(&bc_y));
        assert!(!y.bit_vartime(0));
        assert!(WeierstrassPoint::from_coordinates(g.x, bc_y.to_be_bytes()).is_ok());
        assert_eq!(g.montgomery_u(), BASE_U);
    }

    #[test]
    fn refuses_points_off_the_curve_and_out_of_range() {
        let g = WeierstrassPoint::from_montgomery_u(&BASE_U).unwrap();
        let mut bad_y = g.y;
        bad_y[31] ^= 1;
        assert_eq!(
            WeierstrassPoint::from_coordinates(g.x, bad_y),
            Err(PointError::NotOnCurve)
        );
        assert_eq!(
            WeierstrassPoint::from_coordinates([0xff; 32], g.y),
            Err(PointError::CoordinateOutOfRange)
        );
    }
}
