-- A portal user's reply to a ticket, as the browser posts it (bench/run sets BENCH_CSRF to the
-- session's CSRF token and the path to the ticket's replies).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "csrf=" .. os.getenv("BENCH_CSRF") .. "&body=A+reply+from+the+benchmark"
