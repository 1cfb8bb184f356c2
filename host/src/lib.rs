//! tickhost: market ticks through a chain of WebAssembly filter plugins.
