// A thin, owning layer over libpq: one connection, parameterised statements in text format,
// results read by column name or index, rows streamed one at a time. Every error carries the
// server's SQLSTATE and names the archive by its redacted URL (never its password).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/result.hpp"

struct pg_conn;
struct pg_result;

namespace rig::factory::pg {

// "postgresql://rig:secret@host/db" -> "postgresql://rig:***@host/db": for logs and messages.
std::string redact(std::string_view url);
// True for the URLs and connection strings that name a PostgreSQL archive.
bool is_url(std::string_view location);

// One parameter: text, or SQL NULL.
using Param = std::optional<std::string>;

class Rows {
public:
    Rows() = default;
    explicit Rows(pg_result* r);
    Rows(Rows&&) noexcept;
    Rows& operator=(Rows&&) noexcept;
    ~Rows();
    int size() const;
    bool null(int row, int col) const;
    std::string_view text(int row, int col) const;
    std::int64_t integer(int row, int col) const;  // 0 for NULL
    std::string_view operator()(int row, int col) const { return text(row, col); }

private:
    pg_result* r_ = nullptr;
};

class Connection {
public:
    // Connects, with a timeout of `connect_timeout_s` seconds. The error names the redacted URL.
    static Result<Connection> connect(const std::string& url, int connect_timeout_s = 5);
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    ~Connection();

    // Bounds every exec() and run() from now on: a statement with no complete reply within
    // `timeout` (a hung server, a proxy or firewall that stopped passing bytes while TCP still
    // looks healthy: keepalives are answered by a kernel, not by the server), or with `*stop`
    // set, fails with Errc::timeout and the connection is dropped (alive() is then false). The
    // server may still have completed it: callers resend idempotently.
    void bound_replies(std::chrono::milliseconds timeout, const std::atomic<bool>* stop = nullptr);

    Result<Rows> exec(std::string_view sql, const std::vector<Param>& params = {});
    Result<void> run(std::string_view sql, const std::vector<Param>& params = {});  // no rows wanted
    // Several statements with no parameters, as one (a migration's script).
    Result<void> script(const std::string& sql);
    // Streams the rows of a query one at a time (libpq's single-row mode): a result of any size
    // in constant memory. `row` returns false to stop early. Returns the rows read.
    Result<std::uint64_t> each(std::string_view sql, const std::vector<Param>& params, const std::function<bool(const Rows&)>& row);
    // BEGIN ... COMMIT around `body`; ROLLBACK when it fails.
    Result<void> transaction(const std::function<Result<void>()>& body);
    // After LISTEN: true when a notification arrived within `timeout_ms`, false when none did.
    Result<bool> wait_notification(int timeout_ms);
    bool alive() const;  // the connection is usable (not broken)
    const std::string& name() const { return name_; }  // the redacted URL
    // The server's SQLSTATE of the last error ("" when none): 42501 is permission denied,
    // 23505 a unique violation.
    const std::string& last_state() const { return state_; }

private:
    Connection(pg_conn* c, std::string name);
    Error failure(std::string_view what, pg_result* r);
    Error closed() const;
    // Within the bound: sends what libpq holds and reads until a result can be taken unblocked.
    Result<void> await_result(std::chrono::steady_clock::time_point until);
    // The statement sent, its results (all but the first cleared), within the bound.
    Result<Rows> bounded_exec(const char* sql, const std::vector<const char*>& values);
    pg_conn* c_ = nullptr;
    std::string name_;
    std::string state_;
    std::chrono::milliseconds reply_timeout_{0};  // 0: unbounded (libpq's blocking calls)
    const std::atomic<bool>* stop_ = nullptr;
};

// A text[] literal ({"a","b\"c"}) for one array parameter: a batch in one statement.
std::string array_literal(const std::vector<std::string>& items);

}  // namespace rig::factory::pg
