//! SockScope — a TCP/UDP network debugging assistant (网络调试助手).

pub mod capture;
pub mod codec;
pub mod engine;
