// imu.static, baro.static, mag.static: the unit at rest on the jig, its sensors sane and quiet.
#include <cmath>

#include "rig/steps/measure.hpp"
#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono;

const StepKind imu_static_kind{
    .schema = {"imu.static", 5s,
               {{"samples", 50.0, 2, 10000, true}},
               {{"acc_magnitude", true, "g"}, {"gyro_noise", true, "dps"}, {"gyro_bias", true, "dps"}}},
    .run = imu_static};

StepResult imu_static(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 2, 10000);
    std::array<std::vector<double>, 3> acc, gyro;
    for (int i = 0; i < samples; ++i) {
        auto imu = co_await ctx.fc.imu();
        if (!imu) co_return imu.error();
        for (int a = 0; a < 3; ++a) {
            acc[a].push_back(imu->acc_g[a]);
            gyro[a].push_back(imu->gyro_dps[a]);
        }
        if (auto s = co_await ctx.sleep(milliseconds(5)); !s) co_return s.error();
    }
    double sum_sq = 0, noise = 0, bias = 0;
    for (int a = 0; a < 3; ++a) {
        const double m = stats(acc[a]).mean;
        sum_sq += m * m;
        const auto g = stats(gyro[a]);
        noise = std::max(noise, g.stddev);
        if (std::isnan(g.mean) || std::abs(g.mean) > std::abs(bias)) bias = g.mean;
        if (std::isnan(g.stddev)) noise = g.stddev;
    }
    sequencer::StepOutput out;
    out.push_back(number("acc_magnitude", std::sqrt(sum_sq), "g"));
    out.push_back(number("gyro_noise", noise, "dps"));
    out.push_back(number("gyro_bias", bias, "dps"));
    co_return out;
}

const StepKind baro_static_kind{
    .schema = {"baro.static", 5s,
               {{"samples", 20.0, 2, 10000, true}, {"period_ms", 50.0, 1, 10000, true}},
               {{"pressure", true, "hPa"}, {"pressure_noise", true, "Pa"}, {"baro_temperature", true, "degC"}}},
    .run = baro_static};

StepResult baro_static(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 2, 10000);
    const auto period = milliseconds(count_param(spec, "period_ms", 1, 10000));
    std::vector<double> pa, temp;
    for (int i = 0; i < samples; ++i) {
        auto b = co_await ctx.fc.barometer();
        if (!b) co_return b.error();
        pa.push_back(b->pressure_pa);
        temp.push_back(b->temperature_c);
        if (auto s = co_await ctx.sleep(period); !s) co_return s.error();
    }
    const auto p = stats(pa);
    sequencer::StepOutput out;
    out.push_back(number("pressure", p.mean / 100.0, "hPa"));
    // A stuck sensor repeats one value exactly: as suspicious as a noisy one.
    out.push_back(number("pressure_noise", p.stddev, "Pa"));
    out.push_back(number("baro_temperature", stats(temp).mean, "degC"));
    co_return out;
}

const StepKind mag_static_kind{
    .schema = {"mag.static", 5s,
               {{"samples", 20.0, 2, 10000, true}, {"period_ms", 20.0, 1, 10000, true}},
               {{"mag_field", true, "mGauss"}, {"mag_noise", true, "mGauss"}}},
    .run = mag_static};

StepResult mag_static(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 2, 10000);
    const auto period = milliseconds(count_param(spec, "period_ms", 1, 10000));
    std::vector<double> magnitude;
    for (int i = 0; i < samples; ++i) {
        auto m = co_await ctx.fc.magnetometer();
        if (!m) co_return m.error();
        double sq = 0;
        for (double f : m->field_mgauss) sq += f * f;
        magnitude.push_back(std::sqrt(sq));
        if (auto s = co_await ctx.sleep(period); !s) co_return s.error();
    }
    const auto s = stats(magnitude);
    sequencer::StepOutput out;
    out.push_back(number("mag_field", s.mean, "mGauss"));
    out.push_back(number("mag_noise", s.stddev, "mGauss"));
    co_return out;
}

}  // namespace rig::steps
