#include "rig/archive/ledger.hpp"

#include <fmt/format.h>
#include <vector>
#include <iterator>
#include <mutex>

#include "reports/checkpoint.hpp"
#include "reports/files.hpp"
#include "reports/text.hpp"
#include "reports/verify.hpp"

namespace rig::archive {
namespace fs = std::filesystem;

namespace {
reports::Columns columns_of(const Record& r) {
    return {r.station, r.sequence, r.serial, r.variant, r.lot, r.verdict, r.created_at, r.sha256, r.previous_sha256};
}
Error refuse(const std::string& what) { return make_error(Errc::integrity, what); }
}  // namespace

std::string export_file_name(const std::string& serial, const std::string& station, std::uint64_t sequence) {
    return reports::certificate_file_name(serial, station, sequence);
}

struct Ledger::Impl {
    LedgerPaths paths;
    std::string station;
    reports::StationKey key;
    reports::TrustStore trust;
    Log log;
    std::shared_ptr<Archive> shared;
    Archive& archive;
    LedgerHead head;
    std::vector<std::pair<fs::path, std::string>> pending;  // exports still to write: file, content
    std::mutex pending_mutex;  // the writer's exporter thread adds to it
    ExportFailed export_failed;

    fs::path checkpoint_file() const { return paths.checkpoints / (station + ".checkpoint.json"); }

    fs::path file_for(const std::string& serial, std::uint64_t sequence) const {
        return paths.certificates / export_file_name(serial, station, sequence);
    }

    Result<void> recover_head() {
        auto last = archive.last(station);
        if (!last) return last.error();
        if (!*last) return {};
        const Record& row = **last;
        const auto where = fmt::format("{} row #{}", paths.archive.string(), row.id);
        auto v = reports::verify_certificate(row.envelope, trust);
        if (!v) return refuse(fmt::format("{}: the station's last certificate does not verify: {}", where, v.error().message));
        if (v->certificate.station.id != station)
            return refuse(fmt::format("{}: the payload is a certificate of station {}, not {}", where, v->certificate.station.id, station));
        auto wrong = reports::column_mismatches(columns_of(row), *v);
        if (!wrong.empty())
            return refuse(fmt::format("{}: {}: the archive was changed outside rigd (run rigctl verify --archive)", where, wrong.front()));
        head = {v->certificate.station.sequence, v->sha256, v->certificate.finished_at};
        return {};
    }

    // Every surviving checkpoint must be reached by the recovered head.
    Result<bool> check_checkpoints() {
        std::vector<std::pair<std::string, std::string>> found;  // source, envelope
        std::error_code ec;
        if (fs::exists(checkpoint_file(), ec)) {
            auto text = reports::read_file(checkpoint_file(), 1 << 20);
            if (!text) return text.error();
            found.emplace_back(checkpoint_file().string(), *text);
        }
        auto stored = archive.checkpoints();
        if (!stored) return stored.error();
        for (auto& e : *stored) found.emplace_back(paths.archive.string() + " checkpoints table", std::move(e));
        bool file_current = false;
        for (const auto& [source, envelope] : found) {
            auto cp = reports::verify_checkpoint(envelope, trust);
            if (!cp) return refuse(fmt::format("{}: checkpoint does not verify: {}", source, cp.error().message));
            if (cp->station != station) continue;
            if (cp->sequence > head.sequence)
                return refuse(fmt::format("{}: checkpoint signed {} says station {} reached sequence {}, but the archive ends at {}: "
                                          "certificates {}..{} are missing (archive truncated or replaced); refusing to continue the chain",
                                          source, cp->time, station, cp->sequence, head.sequence, head.sequence + 1, cp->sequence));
            if (cp->sequence == head.sequence && cp->head_sha256 != head.sha256)
                return refuse(fmt::format("{}: checkpoint signs sequence {} as {} but the archive's certificate {} hashes to {}", source,
                                          cp->sequence, cp->head_sha256.substr(0, 16), cp->sequence, head.sha256.substr(0, 16)));
            if (source == checkpoint_file().string() && cp->sequence == head.sequence) file_current = true;
        }
        return file_current;
    }

    std::string sign_head_checkpoint() const {
        return reports::sign_checkpoint({station, head.sequence, head.sha256, reports::utc_now()}, key);
    }

    void reexport() {
        archive::Filter mine;
        mine.station = station;
        auto rows = archive.query(mine);
        if (!rows) {
            log(fmt::format("event=reexport_failed error=\"{}\"", rows.error().message));
            return;
        }
        for (const auto& row : *rows) {
            auto v = reports::verify_certificate(row.envelope, trust);
            if (!v || !reports::column_mismatches(columns_of(row), *v).empty()) {
                log(fmt::format("event=reexport_skipped row={} reason=\"does not verify; run rigctl verify --archive\"", row.id));
                continue;
            }
            const auto file = file_for(v->certificate.unit.serial, v->certificate.station.sequence);
            const std::string content = row.envelope + "\n";
            auto have = reports::read_file(file);
            if (have && *have == content) continue;
            if (auto w = reports::write_file_atomic(file, content); !w) {
                log(fmt::format("event=export_failed file={} error=\"{}\"", file.string(), w.error().message));
                pending.emplace_back(file, content);
            } else {
                log(fmt::format("event=reexported file={} reason={}", file.string(), have ? "differed" : "missing"));
            }
        }
    }
};

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ledger::Ledger(Ledger&&) noexcept = default;
Ledger::~Ledger() = default;
const LedgerHead& Ledger::head() const { return impl_->head; }
fs::path Ledger::file_for(const std::string& serial, std::uint64_t sequence) const { return impl_->file_for(serial, sequence); }

Result<Ledger> Ledger::open(const LedgerPaths& paths, const std::string& station, reports::StationKey key, reports::TrustStore trust, Log log) {
    auto archive = Archive::open(paths.archive);
    if (!archive) return archive.error();
    return open(std::make_shared<Archive>(std::move(*archive)), paths, station, std::move(key), std::move(trust), std::move(log));
}

Result<Ledger> Ledger::open(std::shared_ptr<Archive> archive, const LedgerPaths& paths, const std::string& station, reports::StationKey key,
                            reports::TrustStore trust, Log log) {
    for (const auto& dir : {paths.certificates, paths.checkpoints})
        if (auto r = reports::make_directory(dir, 0755); !r) return r.error();
    // A crash between writing a temporary file and renaming it leaves the temporary behind.
    for (const auto& dir : {paths.certificates, paths.checkpoints}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            const auto name = e.path().filename().string();
            if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) fs::remove(e.path(), ec);
        }
    }
    Archive& a = *archive;
    auto impl = std::unique_ptr<Impl>(new Impl{paths, station, std::move(key), std::move(trust), std::move(log), std::move(archive), a, {}, {}, {}, {}});
    if (auto r = impl->recover_head(); !r) return r.error();
    auto current = impl->check_checkpoints();
    if (!current) return current.error();
    if (!*current && impl->head.sequence > 0) {
        if (auto w = reports::write_file_atomic(impl->checkpoint_file(), impl->sign_head_checkpoint() + "\n"); !w) return w.error();
        impl->log(fmt::format("event=checkpoint_rewritten sequence={} file={}", impl->head.sequence, impl->checkpoint_file().string()));
    }
    impl->reexport();
    return Ledger(std::move(impl));
}

Result<Ledger::Prepared> Ledger::prepare(reports::Certificate& cert) const {
    auto& m = *impl_;
    if (cert.finished_at < m.head.time)
        return make_error(Errc::integrity, fmt::format("station clock reads {}, before the last certificate's time {}: refusing to certify "
                                                       "until the clock is right",
                                                       cert.finished_at, m.head.time));
    cert.station.id = m.station;
    cert.station.sequence = m.head.sequence + 1;
    cert.previous_sha256 = m.head.sha256;
    const auto payload = reports::to_json(cert);
    Prepared out;
    Record& rec = out.record;
    rec.station = m.station;
    rec.sequence = cert.station.sequence;
    rec.serial = cert.unit.serial;
    rec.variant = cert.unit.variant;
    rec.lot = cert.unit.lot;
    rec.verdict = reports::to_string(cert.verdict);
    rec.created_at = cert.finished_at;
    rec.sha256 = reports::sha256_hex(payload);
    rec.previous_sha256 = cert.previous_sha256;
    rec.envelope = reports::make_envelope(payload, m.key);
    out.checkpoint = reports::sign_checkpoint({m.station, rec.sequence, rec.sha256, reports::utc_now()}, m.key);
    return out;
}

Result<Committed> Ledger::commit(reports::Certificate& cert) {
    std::vector<Entry> one{{this, &cert}};
    return std::move(commit_batch(one).front());
}

std::vector<Result<Committed>> Ledger::commit_batch(const std::vector<Entry>& batch, std::vector<Export>* deferred) {
    std::vector<Result<Committed>> out;
    std::vector<Prepared> prepared;
    std::vector<Archive::Append> appends;
    std::vector<std::size_t> where;  // out index of each append
    out.reserve(batch.size());
    prepared.reserve(batch.size());
    for (const auto& [ledger, cert] : batch) {
        auto p = ledger->prepare(*cert);
        if (!p) {
            out.push_back(p.error());
            continue;
        }
        out.push_back(Committed{});
        prepared.push_back(std::move(*p));
        where.push_back(out.size() - 1);
    }
    if (prepared.empty()) return out;
    for (const auto& p : prepared) appends.push_back({&p.record, p.checkpoint});
    // Every ledger of a batch shares its archive (the writer's).
    auto ids = batch.front().ledger->impl_->archive.append_batch(appends);
    if (!ids) {
        for (auto i : where) out[i] = ids.error();
        return out;
    }
    reports::crash_point("after_commit");
    // Durable from here on: what follows are copies, retried when they fail.
    std::vector<Export> exports;
    std::vector<std::size_t> owner;  // out index of each export
    for (std::size_t k = 0; k < prepared.size(); ++k) {
        const auto i = where[k];
        if (!(*ids)[k]) {
            out[i] = (*ids)[k].error();
            continue;
        }
        Ledger* ledger = batch[i].ledger;
        auto& m = *ledger->impl_;
        Committed& c = *out[i];
        c.record = std::move(prepared[k].record);
        c.record.id = *(*ids)[k];
        m.head = {c.record.sequence, c.record.sha256, c.record.created_at};
        c.file = m.file_for(c.record.serial, c.record.sequence);
        exports.push_back({ledger, {m.checkpoint_file(), prepared[k].checkpoint + "\n"}, true});
        exports.push_back({ledger, {c.file, c.record.envelope + "\n"}, false});
        owner.insert(owner.end(), {i, i});
    }
    if (deferred) {
        std::move(exports.begin(), exports.end(), std::back_inserter(*deferred));
        return out;
    }
    auto errors = write_exports(std::move(exports));
    for (std::size_t e = 0; e < errors.size(); ++e) {
        if (errors[e].empty()) continue;
        auto& why = out[owner[e]]->export_error;
        why += (why.empty() ? "" : "; ") + errors[e];
    }
    return out;
}

std::vector<std::string> Ledger::write_exports(std::vector<Export> exports) {
    std::vector<reports::FileWrite> files;
    files.reserve(exports.size());
    for (const auto& e : exports) files.push_back(e.write);
    auto written = reports::write_files_atomic(files);
    std::vector<std::string> errors(exports.size());
    for (std::size_t f = 0; f < exports.size(); ++f) {
        if (written[f]) continue;
        errors[f] = written[f].error().message;
        auto& m = *exports[f].ledger->impl_;
        m.log(fmt::format("event=export_failed file={} error=\"{}\"", exports[f].write.file.string(), errors[f]));
        if (m.export_failed) m.export_failed(exports[f].write.file, errors[f]);
        // A lost checkpoint file is rewritten at the next commit or start; a certificate file is retried.
        if (exports[f].checkpoint) continue;
        std::lock_guard lock(m.pending_mutex);
        m.pending.emplace_back(exports[f].write.file, std::move(exports[f].write.content));
    }
    return errors;
}

void Ledger::on_export_failed(ExportFailed handler) { impl_->export_failed = std::move(handler); }

Result<void> Ledger::retry_exports() {
    auto& m = *impl_;
    std::lock_guard lock(m.pending_mutex);
    std::vector<std::pair<fs::path, std::string>> still;
    std::string errors;
    for (auto& [file, content] : m.pending) {
        if (auto w = reports::write_file_atomic(file, content); !w) {
            errors += (errors.empty() ? "" : "; ") + w.error().message;
            still.emplace_back(std::move(file), std::move(content));
        } else {
            m.log(fmt::format("event=export_retried file={}", file.string()));
        }
    }
    m.pending = std::move(still);
    if (!errors.empty()) return make_error(Errc::io_error, errors);
    return {};
}

}  // namespace rig::archive
