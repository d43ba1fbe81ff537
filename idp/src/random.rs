//! Randomness is passed in, so tests are deterministic: the worker fills buffers from
//! `crypto.getRandomValues`, tests from a counter.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A source of cryptographically secure random bytes.
pub trait Entropy {
    fn fill(&mut self, buf: &mut [u8]);

    /// `N` random bytes.
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    /// A random token of `N` bytes, base64url without padding.
    fn token<const N: usize>(&mut self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes::<N>())
    }
}

/// Deterministic bytes for tests: a counter run through SHA-256.
#[derive(Debug, Default)]
pub struct TestEntropy {
    counter: u64,
}

impl TestEntropy {
    pub fn new(seed: u64) -> Self {
        Self { counter: seed }
    }
}

impl Entropy for TestEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        use sha2::{Digest, Sha256};
        for chunk in buf.chunks_mut(32) {
            self.counter += 1;
            let block = Sha256::digest(self.counter.to_be_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

/// A generator seeded once from the platform's CSPRNG: blocks are
/// `HMAC-SHA256(seed, counter)`, a PRF, so the output is as unpredictable as the seed.
/// It lets the platform call (which can fail) happen once, up front.
pub struct SeededEntropy {
    seed: [u8; 32],
    counter: u64,
}

impl std::fmt::Debug for SeededEntropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeededEntropy(<hidden>)")
    }
}

impl SeededEntropy {
    pub fn new(seed: [u8; 32]) -> Self {
        Self { seed, counter: 0 }
    }
}

impl Entropy for SeededEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(32) {
            self.counter += 1;
            let block = crate::secretbox::hmac_sha256(&self.seed, &self.counter.to_be_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_entropy_differs_per_seed_and_call() {
        let mut a = SeededEntropy::new([1; 32]);
        let mut b = SeededEntropy::new([2; 32]);
        let (a1, a2, b1) = (a.bytes::<48>(), a.bytes::<48>(), b.bytes::<48>());
        assert_ne!(a1, a2);
        assert_ne!(a1, b1);
        assert_eq!(SeededEntropy::new([1; 32]).bytes::<48>(), a1);
        assert_eq!(a.token::<16>().len(), 22);
    }
}
