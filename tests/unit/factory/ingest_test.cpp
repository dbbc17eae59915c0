// The factory archive's gate against a real PostgreSQL (tests/pg/unit.sh starts one and names it
// in RIG_TEST_PG_URL): every refusal ingest makes, the waiting row, the resent row, and the
// sequence a station resumes after. Each case starts from a fresh schema.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fmt/format.h>

#include "reports/certificate.hpp"
#include "reports/checkpoint.hpp"
#include "reports/trust.hpp"
#include "rig/factory/ingest.hpp"
#include "rig/factory/schema.hpp"
#include "tests/unit/factory/server.hpp"

using namespace rig;
using namespace rig::factory;

namespace {

pg::Connection fresh_archive() {
    auto c = test::connect_test_server();
    REQUIRE(c.run("DROP SCHEMA IF EXISTS rig CASCADE"));
    auto m = migrate(c);
    REQUIRE_MESSAGE(m, m.error().message);
    return c;
}

struct Item {
    std::uint64_t sequence = 0;
    std::string sha256, envelope, checkpoint;
};

// A station signing its chain of certificates, one a minute from 10:00.
struct Station {
    std::string id;
    reports::StationKey key = reports::StationKey::generate();
    std::uint64_t sequence = 0;
    std::string head;

    explicit Station(std::string name) : id(std::move(name)) {}
    reports::KeyBinding binding() const { return {id, key.public_key(), "2026-01-01T00:00:00.000Z", "", id + ".pub"}; }
    static std::string time(std::uint64_t minute) { return fmt::format("2026-11-24T{:02}:{:02}:00.000Z", 10 + minute / 60, minute % 60); }
    // The next certificate; `edit` may change it before it is signed.
    template <class Edit>
    Item next(Edit edit) {
        reports::Certificate c;
        c.unit = {fmt::format("FPV5-{:06}", sequence + 1), "fpv5-bf", "LOT-1"};
        c.verdict = reports::Verdict::pass;
        c.station.id = id;
        c.station.fixture_id = "JIG-1";
        c.station.calibration_due = "2027-06-30";
        c.station.software_version = "0.1.0";
        c.station.sequence = ++sequence;
        c.operator_id = "op1";
        c.plan = {"fpv5-bf", std::string(64, 'a')};
        c.dut = {"BTFL 2026.12.0", "S7X2", "0039", {}};
        c.started_at = c.finished_at = time(sequence);
        c.previous_sha256 = head;
        edit(c);
        const auto payload = reports::to_json(c);
        Item it{sequence, reports::sha256_hex(payload), reports::make_envelope(payload, key), ""};
        it.checkpoint = reports::sign_checkpoint({id, sequence, it.sha256, c.finished_at}, key);
        head = it.sha256;
        return it;
    }
    Item next() {
        return next([](reports::Certificate&) {});
    }
};

// What a station's forwarder inserts: the row labelled (station, sequence, sha256).
void send(pg::Connection& pg, const std::string& station, const Item& it) {
    auto r = pg.run("INSERT INTO rig.inbox (station, sequence, sha256, envelope, checkpoint) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    {station, std::to_string(it.sequence), it.sha256, it.envelope, it.checkpoint});
    REQUIRE_MESSAGE(r, r.error().message);
}
void send(pg::Connection& pg, const Station& s, const Item& it) { send(pg, s.id, it); }

std::string one(pg::Connection& pg, const std::string& sql) {
    auto r = pg.exec(sql);
    REQUIRE_MESSAGE(r, r.error().message);
    REQUIRE(r->size() == 1);
    return std::string(r->text(0, 0));
}

struct Gate {
    pg::Connection& pg;
    reports::TrustStore trust;
    std::vector<Alarm> alarms;
    IngestCounts drain() {
        Ingest ingest(pg, trust, [this](const Alarm& a) { alarms.push_back(a); });
        auto n = ingest.drain();
        REQUIRE_MESSAGE(n, n.error().message);
        return *n;
    }
};

// A fresh archive, station line1-01 and the gate, with the station enrolled or not.
struct Line {
    pg::Connection pg = fresh_archive();
    Station a{"line1-01"};
    Gate gate{pg, {}, {}};
    explicit Line(bool enrolled = true) {
        if (enrolled) gate.trust.add(a.binding());
    }
};

}  // namespace

TEST_CASE("ingest stores a chain in order, waits behind a gap and drops what is sent again") {
    Line line;
    auto& [pg, a, gate] = line;
    const auto i1 = a.next(), i2 = a.next(), i3 = a.next(), i4 = a.next();
    send(pg, a, i1);
    send(pg, a, i2);
    send(pg, a, i4);
    auto n = gate.drain();
    CHECK(n.accepted == 2);
    CHECK(n.waiting == 1);
    CHECK(one(pg, "SELECT string_agg(sequence::text, ',' ORDER BY id) FROM rig.certificates") == "1,2");
    CHECK(one(pg, "SELECT sequence || ' ' || sha256 FROM rig.acknowledged('line1-01')") == "2 " + i2.sha256);

    send(pg, a, i3);
    send(pg, a, i2);  // resent after a lost acknowledgement
    CHECK(one(pg, "SELECT sequence || ' ' || sha256 FROM rig.acknowledged('line1-01')") == "4 " + i4.sha256);
    n = gate.drain();
    CHECK(n.accepted == 2);
    CHECK(n.duplicates == 1);
    CHECK(n.refused == 0);
    CHECK(one(pg, "SELECT string_agg(sequence::text, ',' ORDER BY id) FROM rig.certificates") == "1,2,3,4");
    CHECK(one(pg, "SELECT count(*) FROM rig.checkpoints") == "4");
    CHECK(one(pg, "SELECT count(*) FROM rig.inbox") == "0");
    CHECK(gate.alarms.empty());
}

TEST_CASE("acknowledged: the stored head, then the unbroken run of the inbox, never past a gap") {
    auto pg = fresh_archive();
    Station a("line1-01"), b("line1-02");
    CHECK(one(pg, "SELECT sequence || '/' || sha256 FROM rig.acknowledged('line1-01')") == "0/");
    std::vector<Item> items;
    for (int i = 0; i < 6; ++i) items.push_back(a.next());
    for (int i : {0, 1, 2, 3, 5}) send(pg, a, items[static_cast<std::size_t>(i)]);
    send(pg, b, b.next());
    CHECK(one(pg, "SELECT sequence || ' ' || sha256 FROM rig.acknowledged('line1-01')") == "4 " + items[3].sha256);
    CHECK(one(pg, "SELECT sequence::text FROM rig.acknowledged('line1-02')") == "1");
    CHECK(one(pg, "SELECT sequence::text FROM rig.acknowledged('line9-99')") == "0");
}

TEST_CASE("an unknown key is refused and raised; once the station is enrolled, its resent chain is stored") {
    Line line(false);
    auto& [pg, a, gate] = line;
    const auto i1 = a.next(), i2 = a.next();
    send(pg, a, i1);
    send(pg, a, i2);
    auto n = gate.drain();
    CHECK(n.accepted == 0);
    CHECK(n.refused == 1);
    CHECK(n.waiting == 1);
    REQUIRE(gate.alarms.size() == 1);
    CHECK(gate.alarms[0].kind == "unknown-key");
    CHECK(gate.alarms[0].message.starts_with("station line1-01 sequence 1: signature by untrusted key " + a.key.public_key().keyid()));
    CHECK(one(pg, "SELECT count(*) FROM rig.certificates") == "0");
    CHECK(one(pg, "SELECT kind || ' ' || sequence || ' ' || times FROM rig.alarms") == "unknown-key 1 1");
    // The refused row left the inbox: the station is told to send from the start again.
    CHECK(one(pg, "SELECT sequence::text FROM rig.acknowledged('line1-01')") == "0");

    gate.trust.add(a.binding());  // enrolled
    send(pg, a, i1);
    n = gate.drain();
    CHECK(n.accepted == 2);
    CHECK(n.refused == 0);
    CHECK(one(pg, "SELECT string_agg(sequence::text, ',' ORDER BY id) FROM rig.certificates") == "1,2");
    CHECK(one(pg, "SELECT count(*) FROM rig.alarms") == "1");
}

TEST_CASE("a row whose label is not its certificate is refused as mislabelled") {
    Line line;
    auto& [pg, a, gate] = line;
    auto i1 = a.next();
    SUBCASE("the sha256 claimed is another") {
        auto wrong = i1;
        wrong.sha256 = std::string(64, 'e');
        send(pg, a, wrong);
        CHECK(gate.drain().refused == 1);
        REQUIRE(gate.alarms.size() == 1);
        CHECK(gate.alarms[0].message ==
              fmt::format("station line1-01 sequence 1: the inbox row claims sha256 eeeeeeeeeeeeeeee but the signed certificate is station line1-01 "
                          "sequence 1 sha256 {}",
                          i1.sha256.substr(0, 16)));
    }
    SUBCASE("the station claimed is another") {
        send(pg, "line1-02", i1);
        CHECK(gate.drain().refused == 1);
        REQUIRE(gate.alarms.size() == 1);
        CHECK(gate.alarms[0].station == "line1-02");
        CHECK(gate.alarms[0].message.find("but the signed certificate is station line1-01 sequence 1") != std::string::npos);
    }
    CHECK(gate.alarms[0].kind == "mislabelled");
    CHECK(one(pg, "SELECT count(*) FROM rig.certificates") == "0");
    // Sent again, the same refusal is counted, not raised twice.
    send(pg, gate.alarms[0].station, {1, gate.alarms[0].sha256, i1.envelope, ""});
    CHECK(gate.drain().refused == 1);
    CHECK(one(pg, "SELECT count(*) || ' ' || max(times) FROM rig.alarms") == "1 2");
}

TEST_CASE("a certificate that does not link to the stored one before it is refused as a broken link") {
    Line line;
    auto& [pg, a, gate] = line;
    const auto i1 = a.next();
    const auto i2 = a.next([](reports::Certificate& c) { c.previous_sha256 = std::string(64, '0'); });
    send(pg, a, i1);
    send(pg, a, i2);
    auto n = gate.drain();
    CHECK(n.accepted == 1);
    CHECK(n.refused == 1);
    REQUIRE(gate.alarms.size() == 1);
    CHECK(gate.alarms[0].kind == "broken-link");
    CHECK(gate.alarms[0].message == fmt::format("station line1-01 sequence 2: previous_sha256 0000000000000000 does not match the stored sequence 1 ({})",
                                                i1.sha256.substr(0, 16)));
    CHECK(one(pg, "SELECT string_agg(sequence::text, ',') FROM rig.certificates") == "1");
}

TEST_CASE("a certificate older than the one before it is refused: the station clock went backwards") {
    Line line;
    auto& [pg, a, gate] = line;
    const auto i1 = a.next();
    const auto i2 = a.next([](reports::Certificate& c) { c.started_at = c.finished_at = "2026-11-24T09:00:00.000Z"; });
    send(pg, a, i1);
    send(pg, a, i2);
    CHECK(gate.drain().refused == 1);
    REQUIRE(gate.alarms.size() == 1);
    CHECK(gate.alarms[0].kind == "clock");
    CHECK(gate.alarms[0].message ==
          "station line1-01 sequence 2: created 2026-11-24T09:00:00.000Z before sequence 1 (created 2026-11-24T10:01:00.000Z): the station clock went backwards");
}

TEST_CASE("a tampered certificate is refused as invalid, a second signed one for a stored sequence as a fork") {
    Line line;
    auto& [pg, a, gate] = line;
    const auto i1 = a.next();
    send(pg, a, i1);
    REQUIRE(gate.drain().accepted == 1);

    SUBCASE("tampered") {
        auto i2 = a.next();
        const auto at = i2.envelope.find("\"payload\":\"") + 11;
        i2.envelope[at + 20] = i2.envelope[at + 20] == 'A' ? 'B' : 'A';
        send(pg, a, i2);
        CHECK(gate.drain().refused == 1);
        REQUIRE(gate.alarms.size() == 1);
        CHECK(gate.alarms[0].kind == "invalid");
    }
    SUBCASE("forked") {
        Station twin = a;  // the station's data directory restored from before sequence 1
        twin.sequence = 0;
        twin.head.clear();
        const auto other = twin.next([](reports::Certificate& c) { c.unit.serial = "FPV5-999999"; });
        send(pg, a, other);
        CHECK(gate.drain().refused == 1);
        REQUIRE(gate.alarms.size() == 1);
        CHECK(gate.alarms[0].kind == "fork");
        CHECK(gate.alarms[0].message == fmt::format("station line1-01 sequence 1: a second certificate {} for a sequence stored as {} (a fork)",
                                                    other.sha256.substr(0, 16), i1.sha256.substr(0, 16)));
        CHECK(one(pg, "SELECT sha256 FROM rig.certificates") == i1.sha256);
    }
    CHECK(one(pg, "SELECT count(*) FROM rig.certificates") == "1");
    CHECK(one(pg, "SELECT count(*) FROM rig.inbox") == "0");
}

TEST_CASE("a checkpoint that signs another head is an alarm of its own; its certificate stands") {
    Line line;
    auto& [pg, a, gate] = line;
    auto i1 = a.next();
    i1.checkpoint = reports::sign_checkpoint({a.id, 1, std::string(64, 'f'), Station::time(1)}, a.key);
    send(pg, a, i1);
    auto n = gate.drain();
    CHECK(n.accepted == 1);
    REQUIRE(gate.alarms.size() == 1);
    CHECK(gate.alarms[0].kind == "checkpoint");
    CHECK(gate.alarms[0].message == "station line1-01 sequence 1: checkpoint: it signs station line1-01 sequence 1 head ffffffffffffffff");
    CHECK(one(pg, "SELECT count(*) FROM rig.certificates") == "1");
    CHECK(one(pg, "SELECT count(*) FROM rig.checkpoints") == "0");
}
