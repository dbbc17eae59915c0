// A nest's board: the view it shows outside (nest_view.hpp), kept as the nest goes, with an
// event for every change. Owned by the station, on the io thread.
#pragma once
#include <chrono>

#include "rig/station/nest_view.hpp"

namespace rig::station {

class Board {
public:
    Board(NestView initial, EventSink sink) : view_(std::move(initial)), sink_(std::move(sink)) {}

    // A state change (or a new detail or serial) is one "state" event; the same state again is none.
    void set(NestState state, std::string detail = {});
    void set_serial(std::string serial);
    void set_scanned(std::string serial);
    void set_scan_notice(std::string notice);
    void set_scanner_problem(std::string problem);
    void set_lid(bool closed, bool dut_present);
    void step_started(std::string id, std::string kind, int index, int count, std::chrono::milliseconds timeout);
    void step_finished(const reports::StepRecord& record);
    // A certified verdict: the state becomes verdict, with its failing measurements.
    void verdict(VerdictView verdict);
    Totals& totals() { return view_.totals; }
    const NestView& raw() const { return view_; }
    NestView snapshot() const;  // with the running step's elapsed time

private:
    void emit(const char* type, const reports::StepRecord* step = nullptr);
    NestView view_;
    EventSink sink_;
    std::chrono::steady_clock::time_point step_since_;
};

// Every measurement of a certificate's steps outside its limits, in step order.
std::vector<VerdictView::Failing> failing_measurements(const std::vector<reports::StepRecord>& steps);

}  // namespace rig::station
