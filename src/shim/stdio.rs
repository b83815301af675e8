//! stdin and stdout for the MCP transport, driven by the event loop when
//! they are pipes or sockets (as MCP clients make them).
//!
//! tokio's own `stdin()`/`stdout()` hand every read and write to a blocking
//! thread, which costs a thread wake-up each way per message; on a pipe or
//! a socket the reactor can wait on the descriptor itself. Anything else (a
//! file, a terminal) falls back to tokio's handles.

use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

pub type Input = Pin<Box<dyn AsyncRead + Send>>;
pub type Output = Pin<Box<dyn AsyncWrite + Send>>;

/// This process's stdin.
pub fn input() -> Input {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Some(reader) = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(unix::reader)
        {
            return reader;
        }
    }
    Box::pin(tokio::io::stdin())
}

/// This process's stdout.
pub fn output() -> Output {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Some(writer) = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(unix::writer)
        {
            return writer;
        }
    }
    Box::pin(tokio::io::stdout())
}

#[cfg(unix)]
mod unix {
    use std::os::fd::OwnedFd;

    use tokio::net::unix::pipe;

    use super::{Input, Output};

    #[derive(PartialEq)]
    enum Kind {
        Pipe,
        Socket,
        Other,
    }

    fn kind(fd: &OwnedFd) -> Kind {
        let Ok(meta) = fd
            .try_clone()
            .and_then(|clone| std::fs::File::from(clone).metadata())
        else {
            return Kind::Other;
        };
        use std::os::unix::fs::FileTypeExt;
        let file_type = meta.file_type();
        if file_type.is_fifo() {
            Kind::Pipe
        } else if file_type.is_socket() {
            Kind::Socket
        } else {
            Kind::Other
        }
    }

    pub(super) fn reader(fd: OwnedFd) -> Option<Input> {
        match kind(&fd) {
            Kind::Pipe => pipe::Receiver::from_owned_fd(fd)
                .ok()
                .map(|r| Box::pin(r) as Input),
            Kind::Socket => socket(fd).map(|s| Box::pin(s) as Input),
            Kind::Other => None,
        }
    }

    pub(super) fn writer(fd: OwnedFd) -> Option<Output> {
        match kind(&fd) {
            Kind::Pipe => pipe::Sender::from_owned_fd(fd)
                .ok()
                .map(|w| Box::pin(w) as Output),
            Kind::Socket => socket(fd).map(|s| Box::pin(s) as Output),
            Kind::Other => None,
        }
    }

    fn socket(fd: OwnedFd) -> Option<tokio::net::UnixStream> {
        let stream = std::os::unix::net::UnixStream::from(fd);
        stream.set_nonblocking(true).ok()?;
        tokio::net::UnixStream::from_std(stream).ok()
    }
}
