#include "rig/factory/pg.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rig::factory::pg {

std::string redact(std::string_view url) {
    std::string s(url);
    // URL form: the password is between the user's ':' and the authority's last '@' (libpq
    // splits there too, so an unencoded '@' in a password stays hidden).
    if (is_url(s)) {
        const auto start = s.find("://") + 3;
        const auto end = std::min(s.find_first_of("/?#", start), s.size());
        const auto at = s.rfind('@', end - 1);
        if (at != std::string::npos && at >= start) {
            const auto colon = s.find(':', start);
            if (colon < at) s.replace(colon + 1, at - colon - 1, "***");
        }
    }
    // A password given as a parameter: "?password=..." up to the next '&', and the key=value
    // form's "password=..." up to the next space. Quoted key=value values are hidden to their end.
    for (auto p = s.find("password="); p != std::string::npos; p = s.find("password=", p + 1)) {
        const auto from = p + 9;
        auto to = from < s.size() && s[from] == '\'' ? s.size() : s.find_first_of("& ", from);
        if (to == std::string::npos) to = s.size();
        s.replace(from, to - from, "***");
    }
    return s;
}

bool is_url(std::string_view location) { return location.starts_with("postgresql://") || location.starts_with("postgres://"); }

Rows::Rows(pg_result* r) : r_(r) {}
Rows::Rows(Rows&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
Rows& Rows::operator=(Rows&& o) noexcept {
    if (this != &o) {
        PQclear(r_);
        r_ = std::exchange(o.r_, nullptr);
    }
    return *this;
}
Rows::~Rows() { PQclear(r_); }
int Rows::size() const { return r_ ? PQntuples(r_) : 0; }
bool Rows::null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string_view Rows::text(int row, int col) const { return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))}; }
std::int64_t Rows::integer(int row, int col) const { return null(row, col) ? 0 : std::stoll(std::string(text(row, col))); }

namespace {

// One line from libpq's message: its first line, trimmed.
std::string one_line(const char* m) {
    std::string s = m ? m : "unknown error";
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

struct Params {
    std::vector<const char*> values;
    explicit Params(const std::vector<Param>& ps) {
        for (const auto& p : ps) values.push_back(p ? p->c_str() : nullptr);
    }
};

}  // namespace

Connection::Connection(pg_conn* c, std::string name) : c_(c), name_(std::move(name)) {}
Connection::Connection(Connection&& o) noexcept
    : c_(std::exchange(o.c_, nullptr)), name_(std::move(o.name_)), state_(std::move(o.state_)), reply_timeout_(o.reply_timeout_), stop_(o.stop_) {}
Connection& Connection::operator=(Connection&& o) noexcept {
    if (this != &o) {
        if (c_) PQfinish(c_);
        c_ = std::exchange(o.c_, nullptr);
        name_ = std::move(o.name_);
        state_ = std::move(o.state_);
        reply_timeout_ = o.reply_timeout_;
        stop_ = o.stop_;
    }
    return *this;
}
Connection::~Connection() {
    if (c_) PQfinish(c_);
}

Result<Connection> Connection::connect(const std::string& url, int connect_timeout_s) {
    const auto name = redact(url);
    // Defaults first, the URL last: what the URL says wins. Keepalives and a TCP user timeout
    // notice a cut cable or a silent server within seconds instead of hanging.
    const auto timeout = std::to_string(connect_timeout_s);
    const char* keys[] = {"connect_timeout", "application_name", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                          "dbname", nullptr};
    const char* values[] = {timeout.c_str(), "rig", "5", "2", "3", "10000", url.c_str(), nullptr};
    pg_conn* c = PQconnectdbParams(keys, values, 1);
    if (!c) return make_error(Errc::io_error, fmt::format("{}: cannot connect: out of memory", name));
    if (PQstatus(c) != CONNECTION_OK) {
        auto msg = one_line(PQerrorMessage(c));
        PQfinish(c);
        return make_error(Errc::io_error, fmt::format("{}: cannot connect: {}", name, msg));
    }
    Connection conn(c, name);
    // Text compared byte by byte, dates as ISO text: the same order and filters as SQLite.
    if (auto r = conn.run("SET client_encoding = 'UTF8'"); !r) return r.error();
    if (auto r = conn.run("SET client_min_messages = warning"); !r) return r.error();  // no NOTICE lines on stderr
    return conn;
}

Error Connection::failure(std::string_view what, pg_result* r) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    state_ = state ? state : "";
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    auto msg = primary ? one_line(primary) : one_line(PQerrorMessage(c_));
    if (r) PQclear(r);
    return make_error(Errc::io_error, state_.empty() ? fmt::format("{}: {}: {}", name_, what, msg)
                                                     : fmt::format("{}: {}: {} (SQLSTATE {})", name_, what, msg, state_));
}

Error Connection::closed() const { return make_error(Errc::io_error, fmt::format("{}: connection closed", name_)); }

void Connection::bound_replies(std::chrono::milliseconds timeout, const std::atomic<bool>* stop) {
    reply_timeout_ = timeout;
    stop_ = stop;
    // Never blocked in a write either: a batch larger than the socket's buffers, sent to a peer
    // that stopped reading, is flushed piecewise within the bound.
    if (c_) PQsetnonblocking(c_, 1);
}

Result<void> Connection::await_result(std::chrono::steady_clock::time_point until) {
    using namespace std::chrono;
    for (;;) {
        const int unsent = PQflush(c_);  // 1: more to send, 0: all sent, -1: failed
        if (unsent < 0 || !PQconsumeInput(c_)) return failure("connection lost", nullptr);
        if (unsent == 0 && !PQisBusy(c_)) return {};
        const auto left = duration_cast<milliseconds>(until - steady_clock::now());
        const bool stopping = stop_ && stop_->load();
        if (left.count() <= 0 || stopping) {
            PQfinish(c_);
            c_ = nullptr;
            if (stopping) return make_error(Errc::cancelled, fmt::format("{}: stopped while waiting for a reply; connection dropped", name_));
            return make_error(Errc::timeout, fmt::format("{}: no reply within {} s; connection dropped (the statement may still complete on the "
                                                         "server)",
                                                         name_, fmt::format("{:g}", reply_timeout_.count() / 1000.0)));
        }
        pollfd fd{PQsocket(c_), static_cast<short>(POLLIN | (unsent ? POLLOUT : 0)), 0};
        // In slices, so that a stop is seen within 200 ms.
        if (::poll(&fd, 1, static_cast<int>(std::min<milliseconds::rep>(left.count(), 200))) < 0 && errno != EINTR)
            return make_error(Errc::io_error, fmt::format("{}: poll: {}", name_, std::strerror(errno)));
    }
}

Result<Rows> Connection::bounded_exec(const char* sql, const std::vector<const char*>& values) {
    const auto until = std::chrono::steady_clock::now() + reply_timeout_;
    if (!PQsendQueryParams(c_, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0))
        return failure("query failed", nullptr);
    std::optional<Rows> first;
    std::optional<Error> error;
    for (;;) {
        if (auto w = await_result(until); !w) return w.error();
        pg_result* r = PQgetResult(c_);
        if (!r) break;
        const auto status = PQresultStatus(r);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            if (!error) error = failure("query failed", r);
            else PQclear(r);
        } else if (!first) {
            first.emplace(r);
        } else {
            PQclear(r);
        }
    }
    if (error) return *error;
    if (!first) return failure("query failed", nullptr);
    return std::move(*first);
}

Result<Rows> Connection::exec(std::string_view sql, const std::vector<Param>& params) {
    state_.clear();
    if (!c_) return closed();
    const std::string q(sql);
    Params p(params);
    if (reply_timeout_.count() > 0) return bounded_exec(q.c_str(), p.values);
    pg_result* r = PQexecParams(c_, q.c_str(), static_cast<int>(p.values.size()), nullptr, p.values.data(), nullptr, nullptr, 0);
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return failure("query failed", r);
    return Rows(r);
}

Result<void> Connection::run(std::string_view sql, const std::vector<Param>& params) {
    auto r = exec(sql, params);
    if (!r) return r.error();
    return {};
}

Result<void> Connection::script(const std::string& sql) {
    state_.clear();
    if (!c_) return closed();
    pg_result* r = PQexec(c_, sql.c_str());
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return failure("script failed", r);
    PQclear(r);
    return {};
}

Result<std::uint64_t> Connection::each(std::string_view sql, const std::vector<Param>& params, const std::function<bool(const Rows&)>& row) {
    state_.clear();
    if (!c_) return closed();
    const std::string q(sql);
    Params p(params);
    if (!PQsendQueryParams(c_, q.c_str(), static_cast<int>(p.values.size()), nullptr, p.values.data(), nullptr, nullptr, 0))
        return failure("query failed", nullptr);
    PQsetSingleRowMode(c_);
    std::uint64_t n = 0;
    bool wanted = true, cancelled = false;
    std::optional<Error> error;
    while (pg_result* r = PQgetResult(c_)) {
        const auto status = PQresultStatus(r);
        if (status == PGRES_SINGLE_TUPLE) {
            Rows one(r);
            if (wanted) {
                ++n;
                wanted = row(one);
            }
            // Stopping early cancels the rest of the query, and drains what is on its way: the
            // connection must be idle again.
            if (!wanted && !cancelled) {
                if (PGcancel* cancel = PQgetCancel(c_)) {
                    char buf[256];
                    PQcancel(cancel, buf, sizeof buf);
                    PQfreeCancel(cancel);
                }
                cancelled = true;
            }
        } else if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            PQclear(r);
        } else if (cancelled) {
            PQclear(r);  // 57014, the cancel asked for
        } else if (!error) {
            error = failure("query failed", r);
        } else {
            PQclear(r);
        }
    }
    if (error) return *error;
    return n;
}

Result<void> Connection::transaction(const std::function<Result<void>()>& body) {
    if (auto r = run("BEGIN"); !r) return r.error();
    auto r = body();
    if (!r) {
        auto keep = state_;
        (void)run("ROLLBACK");
        state_ = keep;
        return r.error();
    }
    return run("COMMIT");
}

Result<bool> Connection::wait_notification(int timeout_ms) {
    if (!c_) return closed();
    auto take = [&] {
        bool any = false;
        while (PGnotify* n = PQnotifies(c_)) {
            PQfreemem(n);
            any = true;
        }
        return any;
    };
    if (!PQconsumeInput(c_)) return failure("connection lost", nullptr);
    if (take()) return true;
    pollfd fd{PQsocket(c_), POLLIN, 0};
    const int r = ::poll(&fd, 1, timeout_ms);
    if (r < 0 && errno != EINTR) return make_error(Errc::io_error, fmt::format("{}: poll: {}", name_, std::strerror(errno)));
    if (r <= 0) return false;
    if (!PQconsumeInput(c_)) return failure("connection lost", nullptr);
    return take();
}

bool Connection::alive() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

std::string array_literal(const std::vector<std::string>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char ch : items[i]) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
        }
        out += '"';
    }
    out += '}';
    return out;
}

}  // namespace rig::factory::pg
