#include "rig/factory/ingest.hpp"

#include <fmt/format.h>
#include <map>

#include "reports/verify.hpp"

namespace rig::factory {

IngestCounts& IngestCounts::operator+=(const IngestCounts& o) {
    accepted += o.accepted;
    duplicates += o.duplicates;
    refused += o.refused;
    waiting = o.waiting;
    return *this;
}

namespace {

// The columns of one batch's inserts, one array per column: one statement each.
struct Columns {
    std::vector<std::vector<std::string>> cols;
    explicit Columns(std::size_t n) : cols(n) {}
    void add(std::initializer_list<std::string> row) {
        std::size_t i = 0;
        for (const auto& v : row) cols[i++].push_back(v);
    }
    bool empty() const { return cols.front().empty(); }
    std::vector<pg::Param> params(const std::string& station) const {
        std::vector<pg::Param> out{station};
        for (const auto& c : cols) out.emplace_back(pg::array_literal(c));
        return out;
    }
};

std::string kind_of(const Error& e) { return e.message.starts_with("signature by untrusted key") ? "unknown-key" : "invalid"; }

struct Head {
    std::uint64_t sequence = 0;
    std::string sha256, time;
};

}  // namespace

Ingest::Ingest(pg::Connection& pg, const reports::TrustStore& trust, OnAlarm on_alarm, std::size_t batch)
    : pg_(pg), trust_(trust), on_alarm_(std::move(on_alarm)), batch_(batch) {}

Result<bool> Ingest::lock(bool wait) {
    auto r = pg_.exec(wait ? "SELECT pg_advisory_lock(hashtext('rig ingest'))::text" : "SELECT pg_try_advisory_lock(hashtext('rig ingest'))::text");
    if (!r) return r.error();
    return wait || r->text(0, 0) == "true";
}

Result<void> Ingest::listen() { return pg_.run("LISTEN rig_inbox"); }
Result<bool> Ingest::wait(int timeout_ms) { return pg_.wait_notification(timeout_ms); }

Result<IngestCounts> Ingest::drain() {
    IngestCounts total;
    auto stations = pg_.exec("SELECT DISTINCT station FROM rig.inbox ORDER BY station");
    if (!stations) return stations.error();
    std::uint64_t waiting = 0;
    for (int i = 0; i < stations->size(); ++i) {
        const std::string station(stations->text(i, 0));
        for (;;) {
            auto c = station_batch(station);
            if (!c) return c.error();
            total += *c;
            if (c->accepted + c->duplicates + c->refused == 0) {
                waiting += c->waiting;
                break;
            }
        }
    }
    total.waiting = waiting;
    return total;
}

Result<IngestCounts> Ingest::station_batch(const std::string& station) {
    IngestCounts n;
    auto h = pg_.exec("SELECT sequence, sha256, created_at FROM rig.certificates WHERE station = $1 ORDER BY sequence DESC LIMIT 1", {station});
    if (!h) return h.error();
    Head head;
    if (h->size()) head = {static_cast<std::uint64_t>(h->integer(0, 0)), std::string(h->text(0, 1)), std::string(h->text(0, 2))};
    auto rows = pg_.exec("SELECT id, sequence, sha256, envelope, checkpoint, received_by FROM rig.inbox WHERE station = $1 ORDER BY sequence, id LIMIT $2",
                         {station, std::to_string(batch_)});
    if (!rows) return rows.error();
    Columns certs(10), checkpoints(3), alarms(6);
    std::vector<std::string> done;
    std::vector<Alarm> raised;
    std::map<std::uint64_t, std::string> stored_now;  // accepted in this batch: sequence -> sha256
    auto refuse = [&](const std::string& id, std::uint64_t seq, const std::string& sha, const std::string& kind, const std::string& why,
                      const std::string& envelope, const std::string& by) {
        alarms.add({std::to_string(seq), sha, kind, why, envelope, by});
        raised.push_back({station, seq, sha, kind, why});
        done.push_back(id);
        ++n.refused;
    };
    for (int i = 0; i < rows->size(); ++i) {
        const std::string id(rows->text(i, 0)), sha(rows->text(i, 2)), envelope(rows->text(i, 3)), checkpoint(rows->text(i, 4)), by(rows->text(i, 5));
        const auto seq = static_cast<std::uint64_t>(rows->integer(i, 1));
        if (seq > head.sequence + 1) {  // its predecessor has not arrived: wait for it
            n.waiting = static_cast<std::uint64_t>(rows->size() - i);
            break;
        }
        auto v = reports::verify_certificate(envelope, trust_);
        if (seq <= head.sequence) {
            std::string stored;
            if (auto it = stored_now.find(seq); it != stored_now.end()) stored = it->second;
            else {
                auto s = pg_.exec("SELECT sha256 FROM rig.certificates WHERE station = $1 AND sequence = $2", {station, std::to_string(seq)});
                if (!s) return s.error();
                if (s->size()) stored = s->text(0, 0);
            }
            if (stored == sha) {
                done.push_back(id);
                ++n.duplicates;
            } else if (v) {
                refuse(id, seq, sha, "fork", fmt::format("station {} sequence {}: a second certificate {} for a sequence stored as {} (a fork)", station, seq,
                                                         sha.substr(0, 16), stored.substr(0, 16)),
                       envelope, by);
            } else {
                refuse(id, seq, sha, kind_of(v.error()), fmt::format("station {} sequence {}: {}", station, seq, v.error().message), envelope, by);
            }
            continue;
        }
        if (!v) {
            refuse(id, seq, sha, kind_of(v.error()), fmt::format("station {} sequence {}: {}", station, seq, v.error().message), envelope, by);
            continue;
        }
        const auto& c = v->certificate;
        if (c.station.id != station || c.station.sequence != seq || v->sha256 != sha) {
            refuse(id, seq, sha, "mislabelled",
                   fmt::format("station {} sequence {}: the inbox row claims sha256 {} but the signed certificate is station {} sequence {} sha256 {}", station,
                               seq, sha.substr(0, 16), c.station.id, c.station.sequence, v->sha256.substr(0, 16)),
                   envelope, by);
            continue;
        }
        if (c.previous_sha256 != head.sha256) {
            refuse(id, seq, sha, "broken-link",
                   fmt::format("station {} sequence {}: previous_sha256 {} does not match the stored sequence {} ({})", station, seq,
                               c.previous_sha256.substr(0, 16), head.sequence, head.sha256.empty() ? "none" : head.sha256.substr(0, 16)),
                   envelope, by);
            continue;
        }
        if (c.finished_at < head.time) {
            refuse(id, seq, sha, "clock",
                   fmt::format("station {} sequence {}: created {} before sequence {} (created {}): the station clock went backwards", station, seq,
                               c.finished_at, head.sequence, head.time),
                   envelope, by);
            continue;
        }
        certs.add({std::to_string(seq), c.unit.serial, c.unit.variant, c.unit.lot, reports::to_string(c.verdict), c.finished_at, v->sha256,
                   c.previous_sha256, envelope, v->keyid});
        if (!checkpoint.empty()) {
            // A checkpoint that does not verify is an alarm of its own; its certificate stands.
            std::string problem;
            auto cp = reports::verify_checkpoint(checkpoint, trust_);
            if (!cp) problem = cp.error().message;
            else if (cp->station != station || cp->sequence != seq || cp->head_sha256 != sha)
                problem = fmt::format("it signs station {} sequence {} head {}", cp->station, cp->sequence, cp->head_sha256.substr(0, 16));
            if (problem.empty()) {
                checkpoints.add({std::to_string(seq), sha, checkpoint});
            } else {
                const auto why = fmt::format("station {} sequence {}: checkpoint: {}", station, seq, problem);
                alarms.add({std::to_string(seq), sha, "checkpoint", why, checkpoint, by});
                raised.push_back({station, seq, sha, "checkpoint", why});
            }
        }
        stored_now[seq] = sha;
        head = {seq, sha, c.finished_at};
        done.push_back(id);
        ++n.accepted;
    }
    if (done.empty()) return n;
    auto committed = pg_.transaction([&]() -> Result<void> {
        if (!certs.empty())
            if (auto r = pg_.run("INSERT INTO rig.certificates (station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope, keyid)"
                                 " SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],"
                                 " $10::text[], $11::text[])",
                                 certs.params(station));
                !r)
                return r;
        if (!checkpoints.empty())
            if (auto r = pg_.run("INSERT INTO rig.checkpoints (station, sequence, head_sha256, envelope) SELECT $1, * FROM unnest($2::bigint[], $3::text[], "
                                 "$4::text[]) ON CONFLICT DO NOTHING",
                                 checkpoints.params(station));
                !r)
                return r;
        if (!alarms.empty())
            if (auto r = pg_.run("INSERT INTO rig.alarms (station, sequence, sha256, kind, message, envelope, received_by) SELECT $1, * FROM unnest($2::bigint[], "
                                 "$3::text[], $4::text[], $5::text[], $6::text[], $7::name[]) ON CONFLICT (station, sequence, sha256, kind) DO UPDATE SET "
                                 "times = rig.alarms.times + 1, last_at = now(), message = EXCLUDED.message",
                                 alarms.params(station));
                !r)
                return r;
        return pg_.run("DELETE FROM rig.inbox WHERE id = ANY($1::bigint[])", {pg::array_literal(done)});
    });
    if (!committed) return committed.error();
    for (const auto& a : raised) on_alarm_(a);
    return n;
}

}  // namespace rig::factory
