//! A response body made a piece at a time as hyper asks for it (the next piece only once the last one is written),
//! so that the big answers, `/metrics`, `/api/targets` and `/` over thousands of targets, are never held whole; and
//! the daemon's one thread goes back to its other tasks between two pieces, so that making a big answer never holds
//! up the checks (a check started late is a lag, and checks held up start together: more of them in memory at once).

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};

use axum::body::{Body, Bytes};
use hyper::body::Frame;

/// The body whose pieces `next` makes, in order, until it returns `None` (an empty piece is skipped).
pub(super) fn body(next: impl FnMut() -> Option<String> + Send + Unpin + 'static) -> Body {
    Body::new(Pieces { next, pause: None })
}

struct Pieces<F> {
    next: F,
    /// The yield before the next piece, under way.
    pause: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<F: FnMut() -> Option<String> + Unpin> hyper::body::Body for Pieces<F> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        // The other tasks, timers and sockets first (tokio's yield: after the I/O driver has run).
        let pause = this
            .pause
            .get_or_insert_with(|| Box::pin(tokio::task::yield_now()));
        ready!(pause.as_mut().poll(cx));
        this.pause = None;
        loop {
            match (this.next)() {
                Some(piece) if piece.is_empty() => continue,
                Some(piece) => return Poll::Ready(Some(Ok(Frame::data(Bytes::from(piece))))),
                None => return Poll::Ready(None),
            }
        }
    }
}
