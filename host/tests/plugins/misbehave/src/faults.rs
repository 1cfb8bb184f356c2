//! The faults that misbehave shows without returning (a trap, an endless
//! loop, memory growth without end) and the busy wait of `slow`.
//!
//! Each one has to survive the optimiser: a loop with no effect, or memory
//! that is allocated and never read, could otherwise be removed, and the
//! fault with it. None of them is safe to call in a native test.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The size of each block `grow_memory_forever` allocates.
const BLOCK_BYTES: usize = 1 << 20;

/// The stride at which a new block is written to, so that every page of it
/// is really in use (natively the allocator could otherwise hand out
/// untouched, zero-filled pages that cost nothing).
const TOUCH_STRIDE: usize = 4096;

/// Traps the instance: a WebAssembly `unreachable` instruction, which the
/// host sees as a trap rather than as a panic with a message.
#[cfg(target_arch = "wasm32")]
pub fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

/// The native stand-in for a trap, so that the crate builds natively for its
/// unit tests and clippy.
#[cfg(not(target_arch = "wasm32"))]
pub fn trap() -> ! {
    std::process::abort()
}

/// Spins forever. `black_box` makes every iteration observable, so the loop
/// cannot be proven empty and removed; only the host's time limit (fuel or
/// epoch interruption) ends it.
pub fn spin_forever() -> ! {
    let mut spins = 0u64;
    loop {
        spins = black_box(spins.wrapping_add(1));
    }
}

/// Allocates 1 MiB blocks, writes to each and keeps them all, until the
/// host's memory cap makes an allocation fail, which aborts (a trap).
pub fn grow_memory_forever() -> ! {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; BLOCK_BYTES];
        for byte in block.iter_mut().step_by(TOUCH_STRIDE) {
            *byte = 1;
        }
        blocks.push(black_box(block));
    }
}

/// Keeps the CPU busy for `duration`, as measured by the monotonic clock
/// (`wasi:clocks/monotonic-clock` in a component). Busy rather than asleep,
/// because a slow filter is one that computes too long.
pub fn busy_wait(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}
