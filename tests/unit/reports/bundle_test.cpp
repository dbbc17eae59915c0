// Export bundles: written, verified with only a root key, and every way of changing one caught
// with the file at fault named.
#include <doctest/doctest.h>

#include <archive.h>
#include <archive_entry.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <tuple>
#include <fmt/format.h>
#include <unistd.h>

#include "reports/bundle.hpp"
#include "reports/checkpoint.hpp"
#include "reports/tar.hpp"

using namespace rig::reports;
namespace fs = std::filesystem;

namespace {

const std::string kT0 = "2026-01-01T00:00:00.000Z";

struct TempDir {
    fs::path path = fs::temp_directory_path() / fmt::format("rig-bundle-test-{}-{}", ::getpid(), counter()++);
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

// A station with three certificates, its binding endorsed by root "qa", and a bundle of them.
struct Fixture {
    TempDir dir;
    StationKey station = StationKey::generate();
    StationKey root = StationKey::generate();
    KeyBinding binding{"line1-3", station.public_key(), kT0, "", "b.pub"};
    std::string binding_text = to_text(binding);
    std::vector<std::string> payloads, envelopes;
    TrustStore roots;  // what the verifier holds: the root's public key, nothing else

    Fixture() {
        roots.add(RootKey{"qa", root.public_key(), "qa.root.pub"});
        std::string prev;
        for (std::uint64_t seq = 1; seq <= 3; ++seq) {
            Certificate c;
            c.unit = {fmt::format("FPV5-00000{}", seq), "fpv5-bf", "LOT-A"};
            c.verdict = Verdict::pass;
            c.station = {"line1-3", "JIG-0042", "2027-06-30", "0.1.0", seq, {}};
            c.plan = {"fpv5-bf", std::string(64, 'a')};
            c.started_at = "2026-11-22T10:00:00.000Z";
            c.finished_at = fmt::format("2026-11-22T10:00:0{}.000Z", seq);
            c.previous_sha256 = prev;
            payloads.push_back(to_json(c));
            prev = sha256_hex(payloads.back());
            envelopes.push_back(make_envelope(payloads.back(), station) + "\n");
        }
    }
    std::string checkpoint(std::uint64_t seq) const {
        return sign_checkpoint({"line1-3", seq, sha256_hex(payloads[seq - 1]), "2026-11-22T10:00:30.000Z"}, station) + "\n";
    }
    // The files of a good bundle, in tar order (the manifest is added by the writer).
    std::vector<TarEntry> files() const {
        std::vector<TarEntry> out{{"README.txt", "a bundle\n"}};
        for (std::uint64_t seq = 1; seq <= 3; ++seq)
            out.push_back({"certificates/" + certificate_file_name(fmt::format("FPV5-00000{}", seq), "line1-3", seq), envelopes[seq - 1]});
        const auto key = "keys/" + binding_file_name("line1-3", station.public_key());
        out.push_back({key, binding_text});
        out.push_back({key + kEndorsementSuffix, endorse(binding_text, root) + "\n"});
        out.push_back({"checkpoints/line1-3.checkpoint.json", checkpoint(3)});
        return out;
    }
    fs::path write(const std::vector<TarEntry>& entries, const std::string& name = "b.tar.gz", const StationKey* signer = nullptr) const {
        const auto file = dir.path / name;
        auto w = BundleWriter::create(file, "2026-11-23T09:00:00.000Z");
        REQUIRE(w);
        for (const auto& e : entries) REQUIRE(w->add(e.path, e.content));
        Manifest m;
        m.created_by = "test";
        m.signer.kind = "root";
        m.signer.name = "qa";
        m.selection = {{"lot", "LOT-A"}};
        m.certificates = 3;
        m.stations = {"line1-3"};
        REQUIRE(w->commit(m, signer ? *signer : root));
        return file;
    }
};

// Rewrites a bundle's entries as they are, with no new manifest: what an attacker can do.
fs::path rewrite(const fs::path& from, const fs::path& to, const std::function<void(std::vector<TarEntry>&)>& change) {
    auto entries = read_tar(from);
    REQUIRE(entries);
    change(*entries);
    auto w = TarWriter::create(to);
    REQUIRE(w);
    for (const auto& e : *entries) REQUIRE(w->add(e.path, e.content, 0));
    REQUIRE(w->commit());
    return to;
}

std::string problems(const BundleReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += p + "\n";
    for (const auto& i : r.certificates.items)
        if (!i.ok) s += i.name + ": " + i.problem + "\n";
    for (const auto* v : {&r.certificates.chain_problems, &r.certificates.checkpoint_problems})
        for (const auto& p : *v) s += p + "\n";
    return s;
}

// A raw tar with entries the writer would refuse (for the reader's checks).
fs::path raw_tar(const fs::path& file, const std::vector<std::tuple<std::string, unsigned, std::string>>& entries) {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
    for (const auto& [path, type, content] : entries) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, path.c_str());
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, 0644);
        if (type == AE_IFLNK) archive_entry_set_symlink(e, "/etc/passwd");
        archive_entry_set_size(e, type == AE_IFREG ? static_cast<la_int64_t>(content.size()) : 0);
        archive_write_header(a, e);
        if (type == AE_IFREG) archive_write_data(a, content.data(), content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return file;
}

}  // namespace

TEST_CASE("a bundle verifies with nothing but the root's public key") {
    Fixture f;
    for (const char* name : {"b.tar", "b.tar.gz", "b.tgz", "b.tar.xz", "b.tar.zst"}) {
        CAPTURE(name);
        auto r = verify_bundle(f.write(f.files(), name), f.roots);
        CHECK_MESSAGE(r.ok(), problems(r));
        CHECK(r.certificates.items.size() == 3);
        REQUIRE(r.manifest);
        CHECK(r.manifest->files.size() == 7);
        CHECK(r.manifest->selection == std::vector<std::pair<std::string, std::string>>{{"lot", "LOT-A"}});
        CHECK(r.signer == "root qa (" + f.root.public_key().keyid() + ")");
    }
    CHECK(!BundleWriter::create(f.dir.path / "b.zip", kT0));
    CHECK(BundleWriter::create(f.dir.path / "b.zip", kT0).error().message == (f.dir.path / "b.zip").string() +
                                                                               ": a bundle's name ends in .tar, .tar.gz, .tgz, .tar.xz or .tar.zst");
}

TEST_CASE("one changed byte in any file of a bundle fails it, naming the file") {
    Fixture f;
    const auto good = f.write(f.files());
    auto entries = read_tar(good);
    REQUIRE(entries);
    REQUIRE(entries->size() == 8);
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto path = (*entries)[i].path;
        CAPTURE(path);
        auto bad = rewrite(good, f.dir.path / "bad.tar.gz", [&](std::vector<TarEntry>& e) {
            auto& c = e[i].content;
            c[c.size() / 2] = static_cast<char>(c[c.size() / 2] ^ 0x01);
        });
        auto r = verify_bundle(bad, f.roots);
        CHECK(!r.ok());
        CHECK_MESSAGE(problems(r).find(path) != std::string::npos, problems(r));
    }
}

TEST_CASE("a certificate removed from a bundle, or a file added, is caught") {
    Fixture f;
    const auto good = f.write(f.files());
    auto removed = verify_bundle(rewrite(good, f.dir.path / "r.tar", [](auto& e) { e.erase(e.begin() + 2); }), f.roots);
    CHECK(!removed.ok());
    CHECK(problems(removed).find("certificates/FPV5-000002-line1-3-000002.dsse.json: missing from the bundle (the signed manifest lists it)") != std::string::npos);
    CHECK(problems(removed).find("manifest.dsse.json: says 3 certificates but the bundle holds 2") != std::string::npos);

    auto added = verify_bundle(rewrite(good, f.dir.path / "a.tar", [&](auto& e) { e.push_back({"certificates/extra.dsse.json", f.envelopes[0]}); }), f.roots);
    CHECK(!added.ok());
    CHECK(problems(added).find("certificates/extra.dsse.json: not in the signed manifest (added after it was signed)") != std::string::npos);

    auto no_manifest = verify_bundle(rewrite(good, f.dir.path / "m.tar", [](auto& e) { e.pop_back(); }), f.roots);
    CHECK(problems(no_manifest).find("manifest.dsse.json: missing") != std::string::npos);
}

TEST_CASE("a truncated bundle fails naming the file and where it broke") {
    Fixture f;
    const auto good = f.write(f.files(), "t.tar.gz");
    std::string bytes;
    {
        auto all = read_tar(good);
        REQUIRE(all);
    }
    const auto size = fs::file_size(good);
    for (auto keep : {size / 4, size / 2, size - 20}) {
        CAPTURE(keep);
        const auto cut = f.dir.path / "cut.tar.gz";
        fs::copy_file(good, cut, fs::copy_options::overwrite_existing);
        fs::resize_file(cut, keep);
        auto r = verify_bundle(cut, f.roots);
        CHECK(!r.ok());
        REQUIRE(!r.problems.empty());
        CHECK_MESSAGE(r.problems.front().rfind(cut.string() + ": damaged or truncated bundle (", 0) == 0, r.problems.front());
    }
}

TEST_CASE("bundle keys count only through the verifier's roots") {
    Fixture f;
    SUBCASE("a binding with no endorsement") {
        auto files = f.files();
        files.erase(files.begin() + 5);
        auto r = verify_bundle(f.write(files), f.roots);
        CHECK(problems(r).find("is endorsed by no root key and is not in your trust store") != std::string::npos);
        CHECK(problems(r).find("signature by untrusted key " + f.station.public_key().keyid()) != std::string::npos);
    }
    SUBCASE("...is fine when the verifier trusts that binding itself") {
        auto files = f.files();
        files.erase(files.begin() + 5);
        TrustStore both = f.roots;
        both.add(f.binding);
        auto r = verify_bundle(f.write(files), both);
        CHECK_MESSAGE(r.ok(), problems(r));
    }
    SUBCASE("an endorsement of another text (the binding changed: a retired key)") {
        auto files = f.files();
        auto retired = f.binding;
        retired.not_after = "2026-06-01T00:00:00.000Z";
        files[4].content = to_text(retired);
        auto r = verify_bundle(f.write(files), f.roots);
        CHECK(problems(r).find("signs a different text (the binding changed after it was endorsed: endorse it again)") != std::string::npos);
    }
    SUBCASE("a manifest signed by a root the verifier does not hold") {
        StationKey stranger = StationKey::generate();
        auto r = verify_bundle(f.write(f.files(), "s.tar", &stranger), f.roots);
        CHECK(problems(r).find("manifest.dsse.json: signature by untrusted key " + stranger.public_key().keyid()) != std::string::npos);
    }
    SUBCASE("an endorsement by a root the verifier does not hold") {
        StationKey stranger = StationKey::generate();
        auto files = f.files();
        files[5].content = endorse(f.binding_text, stranger);
        auto r = verify_bundle(f.write(files), f.roots);
        CHECK(problems(r).find(files[4].path + ": endorsement: signature by untrusted key " + stranger.public_key().keyid()) != std::string::npos);
    }
}

TEST_CASE("a bundle's certificates must lie within the checkpoint that comes with them") {
    Fixture f;
    SUBCASE("no checkpoint") {
        auto files = f.files();
        files.pop_back();
        auto r = verify_bundle(f.write(files), f.roots);
        CHECK(problems(r).find("station line1-3: no valid checkpoint comes with its certificates") != std::string::npos);
    }
    SUBCASE("an older checkpoint than a certificate") {
        auto files = f.files();
        files.back().content = f.checkpoint(2);
        auto r = verify_bundle(f.write(files), f.roots);
        CHECK(problems(r).find("certificates/FPV5-000003-line1-3-000003.dsse.json: sequence 3 is newer than the checkpoint") != std::string::npos);
    }
    SUBCASE("a checkpoint that signs another head") {
        auto files = f.files();
        files.back().content = sign_checkpoint({"line1-3", 3, std::string(64, 'b'), "2026-11-22T10:00:30.000Z"}, f.station);
        auto r = verify_bundle(f.write(files), f.roots);
        CHECK(problems(r).find("certificates/FPV5-000003-line1-3-000003.dsse.json: is sequence 3 with sha256") != std::string::npos);
    }
    SUBCASE("a certificate under another name") {
        auto files = f.files();
        std::swap(files[1].content, files[2].content);
        auto r = verify_bundle(f.write(files), f.roots);
        CHECK(problems(r).find("certificates/FPV5-000001-line1-3-000001.dsse.json: holds the certificate of FPV5-000002 station line1-3 #2") !=
              std::string::npos);
    }
}

TEST_CASE("the tar reader refuses what has no place in a bundle") {
    TempDir d;
    auto refused = [&](const std::vector<std::tuple<std::string, unsigned, std::string>>& entries) {
        auto r = read_tar(raw_tar(d.path / "x.tar", entries));
        REQUIRE(!r);
        return r.error().message;
    };
    const auto x = (d.path / "x.tar").string();
    CHECK(refused({{"../etc/passwd", AE_IFREG, "x"}}) == x + ": '../etc/passwd' is not a plain relative path (empty, '.' or '..' part, or a leading '/')");
    CHECK(refused({{"/etc/passwd", AE_IFREG, "x"}}) == x + ": '/etc/passwd' is not a plain relative path (empty, '.' or '..' part, or a leading '/')");
    CHECK(refused({{"keys/a b.pub", AE_IFREG, "x"}}) == x + ": 'keys/a b.pub' has a character outside [A-Za-z0-9._-/]");
    CHECK(refused({{"a.txt", AE_IFREG, "1"}, {"a.txt", AE_IFREG, "2"}}) == x + ": entry 'a.txt': appears twice");
    CHECK(refused({{"link", AE_IFLNK, ""}}) == x + ": entry 'link': not a regular file (a link or device has no place in a bundle)");
    TarLimits small;
    small.max_entry = 4;
    auto big = read_tar(raw_tar(d.path / "x.tar", {{"big.txt", AE_IFREG, "12345"}}), small);
    REQUIRE(!big);
    CHECK(big.error().message == x + ": entry 'big.txt': 5 bytes, over the limit of 4");
    std::ofstream(d.path / "plain.txt") << "not a tar at all";
    auto plain = read_tar(d.path / "plain.txt");
    REQUIRE(!plain);
    CHECK(plain.error().message.rfind((d.path / "plain.txt").string() + ": not a tar bundle", 0) == 0);
}

TEST_CASE("root keys: files, and endorsements that only a root can make") {
    auto root = StationKey::generate();
    RootKey r{"qa-oslo", root.public_key(), ""};
    auto parsed = parse_root(to_text(r), "qa-oslo.root.pub");
    REQUIRE(parsed);
    CHECK(parsed->name == "qa-oslo");
    CHECK(parsed->key.bytes == root.public_key().bytes);
    CHECK(parse_root("root=qa\n", "x.root.pub").error().message == "x.root.pub: missing key=");
    CHECK(parse_root("key=" + root.public_key().hex() + "\n", "x.root.pub").error().message == "x.root.pub: missing root=");
    CHECK(parse_root("root=../qa\n", "x.root.pub").error().message == "x.root.pub:1: root name '../qa' does not start with a letter or digit");
    CHECK(parse_root("station=x\n", "x.root.pub").error().message == "x.root.pub:1: unknown key 'station' (root, key)");

    TrustStore t;
    t.add(r);
    auto station = StationKey::generate();
    const auto text = to_text(KeyBinding{"line1-3", station.public_key(), kT0, "", ""});
    CHECK(t.add_endorsed(text, endorse(text, root), "b.pub"));
    CHECK(t.check(station.public_key().keyid(), "line1-3", "2026-11-22T10:00:00.000Z"));
    // A station key cannot endorse, and a root cannot sign a certificate.
    auto self = t.add_endorsed(text, endorse(text, station), "b.pub");
    REQUIRE(!self);
    CHECK(self.error().message == "b.pub: endorsement: signature by untrusted key " + station.public_key().keyid());
    auto as_station = t.check(root.public_key().keyid(), "line1-3", "2026-11-22T10:00:00.000Z");
    REQUIRE(!as_station);
    CHECK(as_station.error().message == "signed by root key qa-oslo (" + root.public_key().keyid() + "), which signs no station's records");
}
