#include "rig/factory/forwarder.hpp"

#include <fmt/format.h>

#include "rig/factory/schema.hpp"

namespace rig::factory {

Result<Ack> acknowledged(pg::Connection& pg, const std::string& station) {
    auto r = pg.exec("SELECT sequence, sha256 FROM rig.acknowledged($1)", {station});
    if (!r) return r.error();
    return Ack{static_cast<std::uint64_t>(r->integer(0, 0)), std::string(r->text(0, 1))};
}

Result<std::uint64_t> Forwarder::resume_after(const std::string& station, const Ack& ack, std::uint64_t local) {
    if (ack.sequence == 0) return std::uint64_t{0};
    if (ack.sequence > local) {
        if (behind_[station] != ack.sequence)
            log_(fmt::format("factory archive: ALARM: it holds station {} up to sequence {}, but this station's archive ends at {}: the station's "
                             "archive lost certificates (restored from an older backup?); new ones will be refused as forks",
                             station, ack.sequence, local));
        behind_[station] = ack.sequence;
        return ack.sequence;
    }
    std::string mine;
    auto n = local_->each_after(station, ack.sequence - 1, 1, [&](const archive::Record& r, const std::string&) {
        mine = r.sha256;
        return false;
    });
    if (!n) return n.error();
    if (mine == ack.sha256) return ack.sequence;
    if (forked_[station] != ack.sequence)
        log_(fmt::format("factory archive: ALARM: it holds another certificate for station {} sequence {} ({} here, {} there): this station's archive "
                         "was restored or forked; sending ours for the factory archive to flag",
                         station, ack.sequence, mine.substr(0, 16), ack.sha256.substr(0, 16)));
    forked_[station] = ack.sequence;
    return ack.sequence - 1;
}

Result<std::uint64_t> forward_batch(pg::Connection& pg, archive::Archive& local, const std::string& station, std::uint64_t after, std::size_t limit) {
    std::vector<std::string> sequences, hashes, envelopes, checkpoints;
    std::uint64_t last = after;
    auto n = local.each_after(station, after, limit, [&](const archive::Record& r, const std::string& checkpoint) {
        if (r.sequence != last + 1) return false;  // the local chain has a hole: send up to it
        sequences.push_back(std::to_string(r.sequence));
        hashes.push_back(r.sha256);
        envelopes.push_back(r.envelope);
        checkpoints.push_back(checkpoint);
        last = r.sequence;
        return true;
    });
    if (!n) return n.error();
    if (sequences.empty()) return after;
    // One statement, one transaction: the batch arrives whole or not at all. A row already there
    // (the same station, sequence and sha256) is left as it is: resending is harmless.
    auto r = pg.run(
        "INSERT INTO rig.inbox (station, sequence, sha256, envelope, checkpoint)"
        " SELECT $1, u.s, u.h, u.e, u.c FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(s, h, e, c)"
        " ON CONFLICT DO NOTHING",
        {station, pg::array_literal(sequences), pg::array_literal(hashes), pg::array_literal(envelopes), pg::array_literal(checkpoints)});
    if (!r) return r.error();
    return last;
}

Forwarder::Forwarder(ForwarderOptions options, Log log) : o_(std::move(options)), log_(std::move(log)) {
    for (const auto& s : o_.stations) status_.stations[s] = {};
    thread_ = std::thread([this] { loop(); });
}

Forwarder::~Forwarder() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    halt_ = true;
    wake_.notify_all();
    thread_.join();
}

void Forwarder::wake() {
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    wake_.notify_all();
}

bool Forwarder::drain(std::chrono::milliseconds grace) {
    std::unique_lock lock(mutex_);
    const auto start = rounds_;
    woken_ = true;
    wake_.notify_all();
    return progressed_.wait_for(lock, grace, [&] {
        if (rounds_ < start + 1) return false;
        for (const auto& [id, s] : status_.stations)
            if (s.acknowledged < s.local) return false;
        return true;
    });
}

Forwarder::Status Forwarder::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

void Forwarder::fail(const std::string& why) {
    pg_.reset();
    if (session_) previous_ = std::exchange(session_, std::nullopt);
    std::lock_guard lock(mutex_);
    const bool repeated = why == status_.last_error;
    status_.connected = false;
    ++status_.failures;
    status_.last_error = why;
    if (!repeated) log_(fmt::format("factory archive: {} (the station goes on; its archive keeps every certificate; retrying)", why));
}

bool Forwarder::connect() {
    auto c = pg::Connection::connect(o_.url);
    if (!c) return fail(c.error().message), false;
    c->bound_replies(o_.reply_timeout, &halt_);
    if (auto s = require_schema(*c); !s) return fail(s.error().message), false;
    pg_.emplace(std::move(*c));
    auto me = pg_->exec("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()");
    if (!me) return fail(me.error().message), false;
    if (me->size() == 1) session_ = Session{std::string(me->text(0, 0)), std::string(me->text(0, 1))};
    end_previous_session();
    std::string resumes;
    for (const auto& station : o_.stations) {
        auto ack = acknowledged(*pg_, station);
        if (!ack) return fail(ack.error().message), false;
        auto head = local_->head(station);
        if (!head) return fail(head.error().message), false;
        auto after = resume_after(station, *ack, *head ? (*head)->sequence : 0);
        if (!after) return fail(after.error().message), false;
        std::lock_guard lock(mutex_);
        status_.stations[station].acknowledged = *after;
        resumes += fmt::format("{}station {} after {}", resumes.empty() ? "" : ", ", station, *after);
    }
    std::lock_guard lock(mutex_);
    status_.connected = true;
    status_.last_error.clear();
    log_(fmt::format("factory archive {}: connected; {}", pg_->name(), resumes));
    last_asked_ = std::chrono::steady_clock::now();
    return true;
}

void Forwarder::end_previous_session() {
    if (!previous_) return;
    const auto p = *std::exchange(previous_, std::nullopt);
    auto r = pg_->exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = $1::int AND backend_start = $2::timestamptz"
                       " AND usename = current_user",
                       {p.pid, p.started});
    if (!r) log_(fmt::format("factory archive: could not end the server session of the dropped connection (pid {}): {}", p.pid, r.error().message));
    else if (r->integer(0, 0) > 0) log_(fmt::format("factory archive: ended the lingering server session of the dropped connection (pid {})", p.pid));
}

bool Forwarder::round() {
    if (!local_) {
        auto a = archive::Archive::open_read_only(o_.archive);
        if (!a) return fail(a.error().message), false;
        local_.emplace(std::move(*a));
    }
    if (!pg_ || !pg_->alive())
        if (!connect()) return false;
    // With nothing to send, ask again now and then: a server restored from an older backup
    // answers lower, and is sent what it lost.
    const bool ask = std::chrono::steady_clock::now() - last_asked_ > std::chrono::seconds(10);
    if (ask) last_asked_ = std::chrono::steady_clock::now();
    for (const auto& station : o_.stations) {
        auto head = local_->head(station);
        if (!head) return fail(head.error().message), false;
        const std::uint64_t local = *head ? (*head)->sequence : 0;
        std::uint64_t ack;
        {
            std::lock_guard lock(mutex_);
            status_.stations[station].local = local;
            ack = status_.stations[station].acknowledged;
        }
        // A station behind or level with what the factory holds asks again at each new
        // certificate: the factory's sha256 for it tells a restored or forked station archive.
        if (ask || (local <= ack && local != asked_at_[station])) {
            asked_at_[station] = local;
            auto a = acknowledged(*pg_, station);
            if (!a) return fail(a.error().message), false;
            auto after = resume_after(station, *a, local);
            if (!after) return fail(after.error().message), false;
            if (a->sequence < ack)
                log_(fmt::format("factory archive: station {} was acknowledged up to {} but now {} (the server restored from a backup?): sending "
                                 "again from {}",
                                 station, ack, *after, *after + 1));
            ack = *after;
        }
        while (ack < local) {
            auto sent = forward_batch(*pg_, *local_, station, ack, o_.batch);
            if (!sent) return fail(sent.error().message), false;
            if (*sent == ack) break;  // a hole in the local chain: nothing more to send
            std::lock_guard lock(mutex_);
            status_.sent += *sent - ack;
            ++status_.batches;
            status_.stations[station].acknowledged = ack = *sent;
            if (stopping_) return true;
        }
        std::lock_guard lock(mutex_);
        status_.stations[station].acknowledged = ack;
    }
    return true;
}

void Forwarder::loop() {
    auto backoff = o_.backoff_min;
    for (;;) {
        const bool ok = round();
        std::unique_lock lock(mutex_);
        if (ok) {
            ++rounds_;
            backoff = o_.backoff_min;
        }
        progressed_.notify_all();
        if (stopping_) return;
        const auto wait = ok ? o_.poll : backoff;
        if (!ok) backoff = std::min(backoff * 2, o_.backoff_max);
        wake_.wait_for(lock, wait, [&] { return stopping_ || (ok && woken_); });
        woken_ = false;
        if (stopping_) return;
    }
}

}  // namespace rig::factory
