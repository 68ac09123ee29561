//! The entry points both drivers have (`check`, `serve`, `find`, `serve_find`), written once: each sets up the
//! machine and its session, runs the pump with the driver's I/O, and makes the result. A driver names its transport
//! parameter and bound, its clock parameter if it has one, how it reads the time and how it runs a pump.

/// Expands to the entry points of one driver: `[async]` or `[]`, the transport parameter and its bound, an async
/// driver's clock parameter (`[clock: C: Clock]` is `clock: &C` with `C: Clock`), how to read the time, and how to run
/// the pump to the end.
macro_rules! entry_points {
    (
        [$($async:ident)?] $t:ident: [$($transport:tt)+] $([$clock:ident: $C:ident: $clock_trait:path])?,
        now: $now:expr,
        run: |$pump:ident| $run:expr $(,)?
    ) => {
        /// Runs a health check as requestor over a connected transport. `observe` sees every event
        /// (for logs); the verdict is in the returned [`Report`](crate::io::Report).
        pub $($async)? fn check<T, $($C,)? F>(
            $t: &mut T,
            $($clock: &$C,)?
            config: crate::assoc::Config<'_>,
            options: crate::check::CheckOptions,
            rx_buf: &mut [u8],
            tx_buf: &mut [u8],
            observe: F,
        ) -> Result<crate::io::Report, crate::io::Error<T::Error>>
        where
            T: $($transport)+,
            $($C: $clock_trait,)?
            F: FnMut(&crate::assoc::Event),
        {
            let mut session = crate::io::Session::check(options, observe);
            let now = $now;
            let mut assoc = crate::assoc::Association::new(config, rx_buf, now);
            session.start(&mut assoc, now);
            let $pump = &mut crate::io::Pump::new(&mut assoc, tx_buf, &mut session);
            $run?;
            Ok(session.report(&assoc))
        }

        /// Serves one association as acceptor over an accepted transport: `policy` answers the
        /// A-ASSOCIATE-RQ, C-ECHO-RQs are answered with `config.echo_status`. Returns what was
        /// negotiated, if anything.
        pub $($async)? fn serve<T, $($C,)? F>(
            $t: &mut T,
            $($clock: &$C,)?
            config: crate::assoc::Config<'_>,
            policy: &crate::assoc::AcceptPolicy<'_>,
            rx_buf: &mut [u8],
            tx_buf: &mut [u8],
            observe: F,
        ) -> Result<Option<crate::assoc::Negotiated>, crate::io::Error<T::Error>>
        where
            T: $($transport)+,
            $($C: $clock_trait,)?
            F: FnMut(&crate::assoc::Event),
        {
            let mut session = crate::io::Session::serve(policy, observe);
            let now = $now;
            let mut assoc = crate::assoc::Association::new(config, rx_buf, now);
            session.start(&mut assoc, now);
            let $pump = &mut crate::io::Pump::new(&mut assoc, tx_buf, &mut session);
            $run?;
            Ok(assoc.negotiated().copied())
        }

        /// Runs a find check as requestor over a connected transport (feature `find`). `find_buf`
        /// holds the identifier sent and each match received (see [`crate::find`]). `observe` sees
        /// every event, and with a pending C-FIND-RSP its match; the verdict is in the returned
        /// [`FindReport`](crate::find::FindReport).
        #[cfg(feature = "find")]
        #[allow(clippy::too_many_arguments)]
        pub $($async)? fn find<T, $($C,)? F>(
            $t: &mut T,
            $($clock: &$C,)?
            config: crate::assoc::Config<'_>,
            options: crate::find::FindOptions<'_>,
            rx_buf: &mut [u8],
            tx_buf: &mut [u8],
            find_buf: &mut [u8],
            observe: F,
        ) -> Result<crate::find::FindReport, crate::io::Error<T::Error>>
        where
            T: $($transport)+,
            $($C: $clock_trait,)?
            F: FnMut(&crate::assoc::Event, Option<&crate::dimse::dataset::DataSet<'_>>),
        {
            let mut session = crate::io::find::FindSession::new(options, observe);
            let now = $now;
            // In place: the machine (~2.4 KB) is not moved through a temporary on a small stack.
            let mut assoc = crate::assoc::Association::new(config, rx_buf, now);
            assoc.set_find_buffer(find_buf);
            session.start(&mut assoc, now);
            let $pump = &mut crate::io::Pump::new(&mut assoc, tx_buf, &mut session);
            $run?;
            Ok(session.report(&assoc, &options))
        }

        /// Serves one association as acceptor answering C-FIND from `records` (and C-ECHO) over an
        /// accepted transport (feature `find-scp`); `config.find_models` are the models served.
        /// Returns what was negotiated, if anything.
        #[cfg(feature = "find-scp")]
        #[allow(clippy::too_many_arguments)]
        pub $($async)? fn serve_find<T, $($C,)? F>(
            $t: &mut T,
            $($clock: &$C,)?
            config: crate::assoc::Config<'_>,
            policy: &crate::assoc::AcceptPolicy<'_>,
            records: &[crate::dimse::dataset::DataSet<'_>],
            rx_buf: &mut [u8],
            tx_buf: &mut [u8],
            find_buf: &mut [u8],
            observe: F,
        ) -> Result<Option<crate::assoc::Negotiated>, crate::io::Error<T::Error>>
        where
            T: $($transport)+,
            $($C: $clock_trait,)?
            F: FnMut(&crate::assoc::Event),
        {
            let mut session = crate::io::find::ServeFindSession::new(policy, records, observe);
            let now = $now;
            let mut assoc =
                crate::assoc::Association::new(config, rx_buf, now).with_find_buffer(find_buf);
            assoc.connected(now);
            let $pump = &mut crate::io::Pump::new(&mut assoc, tx_buf, &mut session);
            $run?;
            Ok(assoc.negotiated().copied())
        }
    };
}
