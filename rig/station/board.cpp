#include "rig/station/board.hpp"

namespace rig::station {

const char* to_string(NestState s) {
    switch (s) {
    case NestState::starting: return "starting";
    case NestState::idle: return "idle";
    case NestState::scanned: return "scanned";
    case NestState::loaded: return "loaded";
    case NestState::running: return "running";
    case NestState::verdict: return "verdict";
    case NestState::aborted: return "aborted";
    case NestState::rejected: return "rejected";
    case NestState::out_of_service: return "out_of_service";
    case NestState::jig_lost: return "jig_lost";
    case NestState::stopping: return "stopping";
    case NestState::stopped: return "stopped";
    }
    return "starting";
}

void Board::emit(const char* type, const reports::StepRecord* step) {
    if (sink_) sink_(NestEvent{type, snapshot(), step});
}

void Board::set(NestState state, std::string detail) {
    if (state == view_.state && detail == view_.detail) return;
    view_.state = state;
    view_.detail = std::move(detail);
    if (state != NestState::running) view_.step.reset();
    emit("state");
}

void Board::set_serial(std::string serial) {
    if (serial == view_.serial) return;
    view_.serial = std::move(serial);
    emit("state");
}

void Board::set_scanned(std::string serial) {
    if (serial == view_.scanned) return;
    view_.scanned = std::move(serial);
    emit("state");
}

void Board::set_scan_notice(std::string notice) {
    if (notice == view_.scan_notice) return;
    view_.scan_notice = std::move(notice);
    emit("state");
}

void Board::set_scanner_problem(std::string problem) {
    if (problem == view_.scanner_problem) return;
    view_.scanner_problem = std::move(problem);
    emit("state");
}

void Board::set_lid(bool closed, bool dut_present) {
    if (closed == view_.lid_closed && dut_present == view_.dut_present) return;
    view_.lid_closed = closed;
    view_.dut_present = dut_present;
    emit("state");
}

void Board::step_started(std::string id, std::string kind, int index, int count, std::chrono::milliseconds timeout) {
    view_.step = NestView::Step{std::move(id), std::move(kind), index, count, 0, std::chrono::duration<double>(timeout).count()};
    step_since_ = std::chrono::steady_clock::now();
    emit("step_started");
}

void Board::step_finished(const reports::StepRecord& record) { emit("step_finished", &record); }

void Board::verdict(VerdictView verdict) {
    view_.last = std::move(verdict);
    view_.state = NestState::verdict;
    view_.detail.clear();
    view_.step.reset();
    emit("verdict");
}

NestView Board::snapshot() const {
    NestView v = view_;
    if (v.step) v.step->elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_since_).count();
    return v;
}

std::vector<VerdictView::Failing> failing_measurements(const std::vector<reports::StepRecord>& steps) {
    std::vector<VerdictView::Failing> out;
    for (const auto& s : steps)
        for (const auto& m : s.measurements)
            if (m.verdict != reports::Verdict::pass) out.push_back({s.id, m});
    return out;
}

}  // namespace rig::station
