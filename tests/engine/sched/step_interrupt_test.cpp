// StepInterrupt (engine/sched/step_interrupt.h): when a cancel raises the flag.
#include "engine/sched/step_interrupt.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

namespace stemma::sched {
namespace {

TEST_CASE("a cancel raises the flag only for a request of the step in flight") {
  StepInterrupt in;
  CHECK_FALSE(in.raised());
  const std::vector<RequestId> step = {3, 4};
  in.begin_step(step);
  in.cancel(7);  // not in this step: it waits for the next one
  CHECK_FALSE(in.raised());
  in.cancel(4);
  CHECK(in.raised());
  in.end_step();
  CHECK_FALSE(in.raised());
}

TEST_CASE("a cancel the worker has not taken yet interrupts the step it is about to run") {
  StepInterrupt in;
  in.cancel(5);  // between the worker taking its cancels and the next step's start
  const std::vector<RequestId> step = {5};
  in.begin_step(step);
  CHECK(in.raised());
  in.end_step();
  in.take_cancels();  // the worker applies it: the request is finished, not run again
  in.begin_step(step);
  CHECK_FALSE(in.raised());
  in.end_step();
}

TEST_CASE("close abandons the step in flight and every later one") {
  StepInterrupt in;
  const std::vector<RequestId> step = {1};
  in.begin_step(step);
  std::thread closer([&] { in.close(); });
  closer.join();
  CHECK(in.raised());
  in.end_step();
  CHECK(in.raised());
  in.begin_step(step);
  CHECK(in.raised());
}

}  // namespace
}  // namespace stemma::sched
