// A thin, owning layer over libpq: one connection, parameterised statements in text format,
// results read by column name or index, rows streamed one at a time. Every error carries the
// server's SQLSTATE and names the archive by its redacted URL (never its password).
#pragma once
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
    pg_conn* c_ = nullptr;
    std::string name_;
    std::string state_;
};

// A text[] literal ({"a","b\"c"}) for one array parameter: a batch in one statement.
std::string array_literal(const std::vector<std::string>& items);

}  // namespace rig::factory::pg
