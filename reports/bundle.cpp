#include "reports/bundle.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "reports/json_fields.hpp"
#include "reports/text.hpp"

namespace rig::reports {
namespace json = boost::json;
namespace fs = std::filesystem;

std::string to_json(const Manifest& m) {
    json::object o;
    o["schema"] = m.schema;
    o["created_at"] = m.created_at;
    o["created_by"] = m.created_by;
    o["signer"] = json::object{{"kind", m.signer.kind}, {"name", m.signer.name}, {"keyid", m.signer.keyid}};
    json::object sel;
    for (const auto& [k, v] : m.selection) sel[k] = v;
    o["selection"] = std::move(sel);
    o["certificates"] = m.certificates;
    json::array stations;
    for (const auto& s : m.stations) stations.push_back(json::string(s));
    o["stations"] = std::move(stations);
    json::array files;
    for (const auto& f : m.files) files.push_back(json::object{{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
    o["files"] = std::move(files);
    return json::serialize(o);
}

Result<Manifest> manifest_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return make_error(Errc::integrity, "manifest: not a JSON object");
    const auto& o = v.get_object();
    FieldReader r("manifest");
    Manifest m;
    m.schema = r.str(o, "schema", "manifest");
    if (r.error.empty() && m.schema != kBundleSchema)
        return make_error(Errc::integrity, fmt::format("manifest: schema '{}' is not {}", printable(m.schema), kBundleSchema));
    m.created_at = r.time(o, "created_at", "manifest");
    m.created_by = r.str(o, "created_by", "manifest");
    if (auto* s = r.get(o, "signer", "manifest"); s && s->is_object()) {
        m.signer.kind = r.str(s->get_object(), "kind", "signer");
        m.signer.name = r.id(s->get_object(), "name", "signer");
        m.signer.keyid = r.str(s->get_object(), "keyid", "signer");
    } else if (s) r.fail("manifest", "signer", "not an object");
    if (auto* s = r.get(o, "selection", "manifest"); s && s->is_object()) {
        for (const auto& [k, val] : s->get_object()) {
            if (!val.is_string()) r.fail("selection", std::string(k).c_str(), "not a string");
            else m.selection.emplace_back(std::string(k), std::string(val.get_string()));
        }
    } else if (s) r.fail("manifest", "selection", "not an object");
    if (auto* c = r.get(o, "certificates", "manifest"); c && c->is_number()) {
        if (c->is_uint64()) m.certificates = c->get_uint64();
        else if (c->is_int64() && c->get_int64() >= 0) m.certificates = static_cast<std::uint64_t>(c->get_int64());
        else r.fail("manifest", "certificates", "not a count");
    } else if (c) r.fail("manifest", "certificates", "not a count");
    if (auto* s = r.get(o, "stations", "manifest"); s && s->is_array()) {
        for (const auto& st : s->get_array())
            if (st.is_string()) m.stations.emplace_back(st.get_string());
            else r.fail("manifest", "stations", "holds a non-string");
    } else if (s) r.fail("manifest", "stations", "not an array");
    auto* files = r.get(o, "files", "manifest");
    if (files && !files->is_array()) r.fail("manifest", "files", "not an array");
    if (files && files->is_array()) {
        for (const auto& f : files->get_array()) {
            if (!f.is_object()) {
                r.fail("manifest", "files", "holds a non-object");
                break;
            }
            ManifestFile mf;
            mf.path = r.str(f.get_object(), "path", "files[]");
            mf.sha256 = r.sha256(f.get_object(), "sha256", "files[]", false);
            if (auto* size = f.get_object().if_contains("size"); size && (size->is_uint64() || (size->is_int64() && size->get_int64() >= 0)))
                mf.size = size->to_number<std::uint64_t>();
            else r.fail("files[]", "size", "missing or not a count");
            m.files.push_back(std::move(mf));
        }
    }
    if (!r.error.empty()) return make_error(Errc::integrity, r.error);
    if (m.signer.kind != "station" && m.signer.kind != "root")
        return make_error(Errc::integrity, fmt::format("manifest: signer.kind '{}' is not station or root", printable(m.signer.kind)));
    return m;
}

BundleWriter::BundleWriter(TarWriter tar, std::string created_at, std::time_t mtime)
    : tar_(std::move(tar)), created_at_(std::move(created_at)), mtime_(mtime) {}

Result<BundleWriter> BundleWriter::create(const fs::path& file, std::string created_at) {
    auto tar = TarWriter::create(file);
    if (!tar) return tar.error();
    const auto mtime = static_cast<std::time_t>(epoch_seconds(created_at));
    return BundleWriter(std::move(*tar), std::move(created_at), mtime);
}

Result<void> BundleWriter::add(const std::string& path, std::string_view content) {
    if (auto r = tar_.add(path, content, mtime_); !r) return r;
    files_.push_back({path, sha256_hex(content), content.size()});
    bytes_ += content.size();
    return {};
}

Result<Manifest> BundleWriter::commit(Manifest m, const StationKey& key) {
    m.created_at = created_at_;
    m.files = files_;
    m.signer.keyid = key.public_key().keyid();
    const auto envelope = make_envelope(to_json(m), key, kManifestType) + "\n";
    if (auto r = tar_.add(kManifestPath, envelope, mtime_); !r) return r.error();
    if (auto r = tar_.commit(); !r) return r.error();
    return m;
}

}  // namespace rig::reports
