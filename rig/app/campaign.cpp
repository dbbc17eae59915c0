#include "rig/app/campaign.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "reports/text.hpp"
#include "reports/trust.hpp"
#include "reports/verify.hpp"
#include "rig/archive/archive.hpp"

namespace rig::app {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

// A child process with its stdout and stderr in files.
struct Child {
    pid_t pid = -1;
    int status = 0;
    bool exited = false;

    static Child spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
        Child c;
        c.pid = ::fork();
        if (c.pid == 0) {
            ::setpgid(0, 0);  // its own group: a terminal's SIGINT reaches rigctl, which stops it
            const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(o, 1);
            ::dup2(e, 2);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            std::fprintf(stderr, "cannot run %s\n", args[0]);
            ::_exit(127);
        }
        return c;
    }
    bool poll() {
        if (exited || pid < 0) return exited;
        if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
        return exited;
    }
    int stop(std::chrono::milliseconds grace = 10s) {
        if (pid < 0) return -1;
        if (!poll()) ::kill(pid, SIGTERM);
        const auto until = std::chrono::steady_clock::now() + grace;
        while (!poll() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
        if (!exited) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            exited = true;
        }
        return code();
    }
    int code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
};

std::string slurp(const fs::path& f) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Truth {
    std::string serial, defects, expected;  // expected: "pass", "abort" or step kinds joined by '|'
};

struct Outcome {
    std::string kind;     // "pass", "abort", "fail", "error", "none"
    std::string step;     // the first failing step's kind
    std::string summary;  // its failing measurements or message
    double cycle_s = 0;
};

std::vector<Truth> read_truth(const fs::path& file) {
    std::vector<Truth> out;
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        Truth t;
        std::getline(ls, t.serial, '\t');
        std::getline(ls, t.defects, '\t');
        std::getline(ls, t.expected, '\t');
        if (!t.serial.empty()) out.push_back(t);
    }
    return out;
}

double seconds_between(const std::string& a, const std::string& b) {
    auto parse = [](const std::string& s) {
        std::tm tm{};
        double frac = 0;
        if (s.size() < 19) return 0.0;
        strptime(s.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
        if (s.size() > 20 && s[19] == '.') frac = std::atof(("0" + s.substr(19, 4)).c_str());
        return static_cast<double>(timegm(&tm)) + frac;
    };
    return parse(b) - parse(a);
}

// Each serial's outcome: its certificate in the archive (the last, if tested twice), else an
// ABORTED line in rigd's output.
std::map<std::string, Outcome> read_outcomes(const fs::path& data, const std::string& rigd_out) {
    std::map<std::string, Outcome> out;
    reports::TrustStore trust;
    (void)trust.add_directory(data / "trust");
    if (auto a = archive::Archive::open_read_only(data / "archive.sqlite")) {
        if (auto rows = a->all()) {
            for (const auto& row : *rows) {
                auto v = reports::verify_certificate(row.envelope, trust);
                Outcome o;
                if (!v) {
                    o.kind = "error";
                    o.summary = "certificate does not verify: " + v.error().message;
                } else {
                    const auto& c = v->certificate;
                    o.kind = reports::to_string(c.verdict);
                    o.cycle_s = seconds_between(c.started_at, c.finished_at);
                    for (const auto& s : c.steps) {
                        if (s.verdict == reports::Verdict::pass) continue;
                        o.step = s.kind;
                        o.summary = s.message;
                        for (const auto& m : s.measurements)
                            if (m.verdict != reports::Verdict::pass)
                                o.summary += fmt::format("{}{} {} {} outside {}", o.summary.empty() ? "" : "; ", m.name,
                                                         m.text.empty() ? fmt::format("{:g}", m.value) : m.text, m.unit, m.limit);
                        break;
                    }
                }
                out[row.serial] = o;
            }
        }
    }
    std::istringstream lines(rigd_out);
    std::string line;
    while (std::getline(lines, line)) {
        const auto at = line.find("unit ");
        const auto ab = line.find(" ABORTED (");
        if (at == std::string::npos || ab == std::string::npos) continue;
        auto serial = line.substr(at + 5, line.find(' ', at + 5) - at - 5);
        if (!out.count(serial)) out[serial] = Outcome{"abort", "", line.substr(ab + 10, line.find("):", ab) - ab - 10), 0};
    }
    return out;
}

struct Report {
    // defect class -> outcome column -> count
    std::map<std::string, std::map<std::string, int>> matrix;
    std::vector<std::string> problems;  // escapes, misattributions, false fails and aborts, untested units
    int good = 0, good_passed = 0, defective = 0, caught = 0;
    std::vector<double> cycles;
    std::vector<std::tuple<std::string, std::string, std::string>> cases;  // serial, class, failure ("" = ok)
};

Report judge(const std::vector<Truth>& truth, const std::map<std::string, Outcome>& outcomes) {
    Report r;
    for (const auto& t : truth) {
        const auto it = outcomes.find(t.serial);
        const Outcome o = it == outcomes.end() ? Outcome{"none", "", "", 0} : it->second;
        if (o.cycle_s > 0) r.cycles.push_back(o.cycle_s);
        std::string problem;
        const bool good = t.defects == "-";
        std::string cls = good ? "(good)" : t.defects.substr(0, t.defects.find(':'));
        if (t.defects.find(',') != std::string::npos) cls = t.defects;
        std::string column;
        if (o.kind == "none") {
            column = "not tested";
            problem = fmt::format("{} ({}): no verdict (not tested)", t.serial, good ? "good" : t.defects);
        } else if (t.expected == "pass") {
            column = o.kind == "pass" ? "pass" : o.kind == "abort" ? "aborted" : o.step;
            if (good) ++r.good;
            if (o.kind == "pass") ++r.good_passed;
            else
                problem = fmt::format("{} ({}): false {}{}: {}", t.serial, good ? "good unit" : t.defects, o.kind == "abort" ? "abort" : o.kind,
                                      o.step.empty() ? "" : " at " + o.step, o.summary);
        } else {
            ++r.defective;
            std::set<std::string> want;
            std::istringstream ws(t.expected);
            for (std::string k; std::getline(ws, k, '|');) want.insert(k);
            if (o.kind == "pass") {
                column = "ESCAPED";
                problem = fmt::format("{} ({}): ESCAPE: passed every step of the plan (expected to be caught by {})", t.serial, t.defects, t.expected);
            } else if (o.kind == "abort") {
                column = "aborted";
                if (want.count("abort")) ++r.caught;
                else problem = fmt::format("{} ({}): aborted ({}), expected {}", t.serial, t.defects, o.summary, t.expected);
            } else {
                column = o.step;
                if (want.count(o.step)) ++r.caught;
                else
                    problem = fmt::format("{} ({}): MISATTRIBUTED: caught by {} ({}), expected {}", t.serial, t.defects, o.step, o.summary,
                                          t.expected);
            }
        }
        ++r.matrix[cls][column];
        if (!problem.empty()) r.problems.push_back(problem);
        r.cases.emplace_back(t.serial, cls, problem);
    }
    return r;
}

std::string min_med_max(std::vector<double> v) {
    if (v.empty()) return "n/a";
    std::sort(v.begin(), v.end());
    return fmt::format("{:.2f} / {:.2f} / {:.2f} s", v.front(), v[v.size() / 2], v.back());
}

void print_report(const Report& r, int units, int nests, double wall_s, int safety_violations, bool partial) {
    fmt::print("\n== detection matrix ({} units on {} nests{}) ==\n", units, nests, partial ? ", INTERRUPTED: partial" : "");
    std::set<std::string> columns;
    for (const auto& [cls, row] : r.matrix)
        for (const auto& [c, n] : row) columns.insert(c);
    std::size_t w = 22;
    for (const auto& [cls, row] : r.matrix) w = std::max(w, cls.size() + 2);
    fmt::print("{:<{}}", "defect \\ outcome", w);
    for (const auto& c : columns) fmt::print("{:>{}}", c, std::max<std::size_t>(10, c.size() + 2));
    fmt::print("\n");
    for (const auto& [cls, row] : r.matrix) {
        fmt::print("{:<{}}", cls, w);
        for (const auto& c : columns) {
            const auto it = row.find(c);
            fmt::print("{:>{}}", it == row.end() ? std::string(".") : std::to_string(it->second), std::max<std::size_t>(10, c.size() + 2));
        }
        fmt::print("\n");
    }
    fmt::print("\ndefective units caught by their intended step: {} of {}\n", r.caught, r.defective);
    fmt::print("good units passed: {} of {}\n", r.good_passed, r.good);
    fmt::print("cycle time (power-on to verdict) min / median / max: {}\n", min_med_max(r.cycles));
    fmt::print("wall time {:.1f} s; safety violations seen by the jigs: {}\n", wall_s, safety_violations);
    if (!r.problems.empty()) {
        fmt::print("\n{} problem(s):\n", r.problems.size());
        for (const auto& p : r.problems) fmt::print("  {}\n", reports::printable(p));
    }
}

std::string xml(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '&') o += "&amp;";
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}

void write_junit(const fs::path& file, const Report& r, const std::string& suite, int safety_violations) {
    std::ofstream out(file);
    int failures = safety_violations > 0 ? 1 : 0;
    for (const auto& c : r.cases) failures += std::get<2>(c).empty() ? 0 : 1;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << fmt::format("<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n", xml(suite), r.cases.size() + 1, failures);
    for (const auto& [serial, cls, problem] : r.cases) {
        out << fmt::format("  <testcase classname=\"{}\" name=\"{}\"", xml(suite + "." + cls), xml(serial));
        if (problem.empty()) out << "/>\n";
        else out << fmt::format(">\n    <failure message=\"{}\"/>\n  </testcase>\n", xml(problem));
    }
    out << fmt::format("  <testcase classname=\"{}\" name=\"safety\"", xml(suite));
    if (safety_violations == 0) out << "/>\n";
    else out << fmt::format(">\n    <failure message=\"{} safety violations (DUT powered or motors commanded at the verdict light)\"/>\n  </testcase>\n", safety_violations);
    out << "</testsuite>\n";
}

void write_json(const fs::path& file, const Report& r, int safety_violations, bool partial) {
    std::ofstream out(file);
    out << "{\"partial\":" << (partial ? "true" : "false") << ",\"defective\":" << r.defective << ",\"caught\":" << r.caught
        << ",\"good\":" << r.good << ",\"good_passed\":" << r.good_passed << ",\"safety_violations\":" << safety_violations << ",\"matrix\":{";
    bool first = true;
    for (const auto& [cls, row] : r.matrix) {
        out << (first ? "" : ",") << "\"" << reports::printable(cls) << "\":{";
        first = false;
        bool f2 = true;
        for (const auto& [c, n] : row) {
            out << (f2 ? "" : ",") << "\"" << c << "\":" << n;
            f2 = false;
        }
        out << "}";
    }
    out << "},\"problems\":[";
    for (std::size_t i = 0; i < r.problems.size(); ++i) {
        std::string p = reports::printable(r.problems[i]);
        std::string esc;
        for (char c : p) esc += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        out << (i ? "," : "") << "\"" << esc << "\"";
    }
    out << "]}\n";
}

// A live process's peak resident set (VmHWM) in MiB and its CPU seconds (user + system).
std::pair<double, double> usage_of(pid_t pid) {
    double rss = 0, cpu = 0;
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) rss = std::atof(line.c_str() + 6) / 1024.0;
    const auto stat = slurp(fmt::format("/proc/{}/stat", pid));
    if (const auto paren = stat.rfind(')'); paren != std::string::npos) {
        std::istringstream fields(stat.substr(paren + 2));
        std::string f;
        long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i) {
            if (i == 14) utime = std::atoll(f.c_str());
            if (i == 15) stime = std::atoll(f.c_str());
        }
        cpu = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    return {rss, cpu};
}

int safety_violations_of(const std::string& sim_out) {
    const auto at = sim_out.rfind("safety violations ");
    return at == std::string::npos ? 0 : std::atoi(sim_out.c_str() + at + 18);
}

}  // namespace

int run_campaign(const CampaignOptions& o, const char* argv0) {
    std::error_code ec;
    if (!fs::is_regular_file(o.population, ec)) {
        fmt::print(stderr, "rigctl: campaign: {}: no such population file\n", o.population);
        return 2;
    }
    const auto exe = fs::canonical("/proc/self/exe", ec);
    const auto bin = (ec ? fs::path(argv0) : exe).parent_path();
    // A private run directory: never the user's data directory.
    fs::path run = o.run_dir;
    if (run.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "rig-campaign.XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) {
            fmt::print(stderr, "rigctl: campaign: cannot create a run directory in {}\n", fs::temp_directory_path().string());
            return 2;
        }
        run = tmpl;
    }
    fs::create_directories(run, ec);
    fmt::print("campaign: {} on {} nests, run directory {}\n", o.population, o.nests, run.string());
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const auto t0 = std::chrono::steady_clock::now();

    std::vector<std::string> sim_args = {(bin / "rigsim").string(), "--population", o.population, "--dir", (run / "sim").string(),
                                         "--station", "camp", "--jigs", std::to_string(o.nests), "--seed", std::to_string(o.seed)};
    if (o.units > 0) sim_args.insert(sim_args.end(), {"--units", std::to_string(o.units)});
    auto sim = Child::spawn(sim_args, run / "rigsim.out", run / "rigsim.err");
    auto sim_said = [&](const char* what) { return slurp(run / "rigsim.out").find(what) != std::string::npos; };
    while (!sim_said("rigsim: ready") && !sim.poll() && !g_interrupted) std::this_thread::sleep_for(20ms);
    if (!sim_said("rigsim: ready")) {
        const auto err = slurp(run / "rigsim.err");
        sim.stop();
        fmt::print(stderr, "{}", err.empty() ? "rigctl: campaign: rigsim did not start\n" : err);
        return g_interrupted ? 130 : 2;
    }
    std::vector<std::string> rigd_args = {(bin / "rigd").string(), "--data", (run / "data").string(), "--operator", "campaign"};
    if (!o.variants.empty()) rigd_args.insert(rigd_args.end(), {"--variants", o.variants});
    std::istringstream jigs(slurp(run / "sim" / "jigs.txt"));
    for (std::string j; std::getline(jigs, j);) rigd_args.insert(rigd_args.end(), {"--jig", j});
    auto rigd = Child::spawn(rigd_args, run / "rigd.out", run / "rigd.err");
    // Until every unit is tested and unloaded (or a child gives up, or the user interrupts).
    while (!sim_said("rigsim: done") && !g_interrupted && !sim.poll() && !rigd.poll()) std::this_thread::sleep_for(50ms);
    const bool partial = !sim_said("rigsim: done");
    const auto [rss_mib, cpu_s] = rigd.poll() ? std::pair{0.0, 0.0} : usage_of(rigd.pid);
    const int rigd_code = rigd.stop(30s);  // SIGTERM: every nest made safe
    sim.stop();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const auto truth = read_truth(run / "sim" / "units.tsv");
    const auto outcomes = read_outcomes(run / "data", slurp(run / "rigd.out"));
    std::vector<Truth> judged;
    for (const auto& t : truth)
        if (!partial || outcomes.count(t.serial)) judged.push_back(t);  // interrupted: the units that got this far
    const auto report = judge(judged, outcomes);
    const int safety = safety_violations_of(slurp(run / "rigsim.out"));
    print_report(report, static_cast<int>(judged.size()), o.nests, wall, safety, partial);
    if (rss_mib > 0)
        fmt::print("rigd: peak RSS {:.1f} MiB, CPU {:.2f} s ({:.3f} s per nest, {:.2f} % of one core per nest)\n", rss_mib, cpu_s,
                   cpu_s / o.nests, 100.0 * cpu_s / o.nests / std::max(wall, 1e-3));
    if (!o.junit.empty()) write_junit(o.junit, report, fs::path(o.population).stem().string(), safety);
    if (!o.json.empty()) write_json(o.json, report, safety, partial);
    if (rigd_code != 0 && rigd_code != 3)
        fmt::print("rigd exited {} ({}): {}\n", rigd_code, (run / "rigd.err").string(), reports::printable(slurp(run / "rigd.err").substr(0, 300)));
    if (g_interrupted) {
        fmt::print("campaign: interrupted; children stopped; logs in {}\n", run.string());
        return 130;
    }
    if (partial) {
        fmt::print("campaign: rigsim or rigd stopped before every unit was tested; logs in {}\n", run.string());
        return 1;
    }
    return report.problems.empty() && safety == 0 ? 0 : 1;
}

}  // namespace rig::app
