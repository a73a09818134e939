#include "protocols/http_date.h"

namespace handoff {

std::string http_date(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = floor<days>(when);
  const year_month_day ymd{day};
  const hh_mm_ss time{std::chrono::floor<std::chrono::seconds>(when - day)};
  const auto two = [](unsigned n) { return std::string{static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)}; };
  std::string out;
  out.reserve(29);
  out.append(kDays[weekday{day}.c_encoding()]).append(", ").append(two(static_cast<unsigned>(ymd.day()))).append(" ");
  out.append(kMonths[static_cast<unsigned>(ymd.month()) - 1]).append(" ").append(std::to_string(static_cast<int>(ymd.year())));
  out.append(" ").append(two(static_cast<unsigned>(time.hours().count()))).append(":");
  out.append(two(static_cast<unsigned>(time.minutes().count()))).append(":");
  out.append(two(static_cast<unsigned>(time.seconds().count()))).append(" GMT");
  return out;
}

}  // namespace handoff
