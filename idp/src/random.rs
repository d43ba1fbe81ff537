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

