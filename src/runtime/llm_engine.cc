#include "runtime/llm_engine.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/stopwatch.h"
#include "gemm/hardware_tag.h"
#include "gpu/cuda_check.h"
#include "sequences/sampler.h"

namespace slidesparse {

WeightLoadOptions LlmEngine::weight_options(const EngineOptions& options) {
  WeightLoadOptions load;
  load.backend = options.backend;
  load.max_tokens = ModelRunner::rows_needed(options.runner);
  load.exact_scales = options.exact_scales;
  load.fp8_fast_accum = options.fp8_fast_accum;
  load.scaled_gemm = options.scaled_gemm;
  load.sparse_scaled_gemm = options.sparse_scaled_gemm;
  load.relu2_mul_epilogue = options.relu2_mul_epilogue;
  load.residual_epilogue = options.residual_epilogue;
  // Its timings choose where the dense fallback runs.
  if (options.dense_fallback && !options.runner.batch_invariant) load.dense_fallback_db = options.tuning_db;
  return load;
}

LlmEngine::LlmEngine(const EngineOptions& options) : LlmEngine(options, nullptr) {}

LlmEngine::LlmEngine(const EngineOptions& options, std::shared_ptr<ModelWeights> weights) : options_(options) {
  const Stopwatch clock;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  if (!options.tuning_db.empty()) {
    tuning_ = TuningDatabase::load(options.tuning_db, current_hardware_tag());
    options_.runner.tuning = &tuning_;
  }
  const WeightLoadOptions load = weight_options(options_);
  if (weights) {
    const WeightLoadOptions& have = weights->load_options();
    require(have.backend == load.backend && have.exact_scales == load.exact_scales &&
                have.fp8_fast_accum == load.fp8_fast_accum && have.scaled_gemm == load.scaled_gemm &&
                have.sparse_scaled_gemm == load.sparse_scaled_gemm &&
                have.relu2_mul_epilogue == load.relu2_mul_epilogue && have.residual_epilogue == load.residual_epilogue &&
                have.dense_fallback_db == load.dense_fallback_db &&
                have.max_tokens >= load.max_tokens,
            "engine: shared weights were loaded for other options or fewer rows (" +
                std::to_string(have.max_tokens) + " < " + std::to_string(load.max_tokens) + ")");
    weights_ = std::move(weights);
  } else {
    weights_ = std::make_shared<ModelWeights>(options.model, load, stream_);
  }
  const ModelConfig& c = weights_->config();
  require(!options.runner.batch_invariant || weights_->linear(LinearSlot::Qkv).config().kind == QuantKind::Int8,
          "--batch-invariant needs an INT8 model: FP8 GEMMs accumulate in an order that depends on the step's "
          "row count");
  if (options_.runner.max_model_len <= 0) options_.runner.max_model_len = static_cast<int>(c.max_position_embeddings);
  require(options_.runner.max_model_len <= c.max_position_embeddings,
          "--max-model-len " + std::to_string(options_.runner.max_model_len) + " exceeds the model's " +
              std::to_string(c.max_position_embeddings) + " positions");
  runner_ = std::make_unique<ModelRunner>(*weights_, options_.runner, stream_);
  blocks_ = std::make_unique<BlockManager>(runner_->num_kv_blocks(), options_.runner.block_size,
                                           options_.prefix_caching);
  SchedulerConfig sc;
  sc.max_num_seqs = options_.runner.max_num_seqs;
  sc.max_num_batched_tokens = options_.runner.max_num_batched_tokens;
  sc.max_model_len = options_.runner.max_model_len;
  sc.chunked_prefill = options.chunked_prefill;
  sc.eos_token = options.eos_token;
  if (sc.eos_token < 0) sc.eos_token = static_cast<int>(c.eos_token_id);
  scheduler_ = std::make_unique<Scheduler>(sc, *blocks_);
  startup_seconds_ = clock.seconds();
}

LlmEngine::~LlmEngine() {
  runner_.reset();
  weights_.reset();
  if (stream_) cudaStreamDestroy(stream_);
}

void LlmEngine::prepare_prefill(int prompt_len) {
  const auto& r = options_.runner;
  const int len = std::min(prompt_len, r.max_num_batched_tokens);
  runner_->prepare_prefill(std::max(1, std::min(r.max_num_seqs, r.max_num_batched_tokens / len)), len);
}

int64_t LlmEngine::add_request(std::vector<int32_t> prompt, const SamplingParams& params) {
  const int64_t vocab = weights_->config().vocab_size;
  const auto bad = std::find_if(prompt.begin(), prompt.end(), [vocab](int32_t t) { return t < 0 || t >= vocab; });
  if (bad != prompt.end())
    fail("token id " + std::to_string(*bad) + " outside the vocabulary 0.." + std::to_string(vocab - 1));
  check_sampling_params(params);  // here, not in a later step
  sequences_.push_back(std::make_unique<Sequence>(next_id_, std::move(prompt), params));
  try {
    scheduler_->add(sequences_.back().get());
  } catch (...) {
    sequences_.pop_back();
    throw;
  }
  return next_id_++;
}

void LlmEngine::set_profiler(StepProfiler* profiler) {
  require(!profiler || !in_flight_, "engine: a step is in flight; finish it before profiling");
  runner_->set_profiler(profiler);
}

void LlmEngine::launch(SchedulerStep step, const SchedulerStep* previous) {
  fill_step_batch(step, options_.runner.block_size, runner_->max_blocks_per_seq(), batch_);
  if (previous) carry_sampled_tokens(*previous, step, batch_);
  runner_->launch(batch_, false);
  in_flight_ = std::move(step);
}

bool LlmEngine::can_run_ahead(const SchedulerStep& current) const {
  if (!options_.run_ahead || scheduler_->num_waiting() > 0) return false;
  // Every running sequence samples on this step: the next step is a decode step of them all.
  int live = 0;
  for (const ScheduledChunk& chunk : current.chunks) {
    if (!chunk.seq) continue;
    if (!chunk.samples) return false;
    ++live;
  }
  return live == scheduler_->num_running() && runner_->replays_graph(live);
}

void LlmEngine::drop_from_in_flight(const Sequence* seq) {
  if (in_flight_)
    for (ScheduledChunk& chunk : in_flight_->chunks)
      if (chunk.seq == seq) chunk.seq = nullptr;
}

void LlmEngine::drop_finished_requests() {
  std::erase_if(sequences_, [](const auto& s) { return s->status == SequenceStatus::Finished; });
}

std::vector<const Sequence*> LlmEngine::step() {
  const Stopwatch clock;  // the whole call, scheduling included
  drop_finished_requests();
  if (!in_flight_) {
    SchedulerStep step = scheduler_->schedule();
    if (step.chunks.empty()) return {};
    launch(std::move(step), nullptr);
  }
  return complete_in_flight(true, clock);
}

std::vector<const Sequence*> LlmEngine::finish_step_in_flight() {
  const Stopwatch clock;
  drop_finished_requests();
  if (!in_flight_) return {};
  return complete_in_flight(false, clock);
}

std::vector<const Sequence*> LlmEngine::complete_in_flight(bool allow_ahead, const Stopwatch& clock) {
  SchedulerStep current = std::move(*in_flight_);
  in_flight_.reset();
  const bool ahead = allow_ahead && can_run_ahead(current);
  if (ahead) {  // the next step goes to the GPU before this one's tokens come back
    scheduler_->complete_ahead(current);
    SchedulerStep next = scheduler_->schedule();
    if (!next.chunks.empty()) {
      launch(std::move(next), &current);
      ++stats_.steps_ahead;
    }
  }
  runner_->wait(drawn_);

  // One token per chunk (the scheduler ignores those of chunks that do not sample).
  sampled_.assign(current.chunks.size(), 0);
  size_t row = 0;
  for (size_t i = 0; i < current.chunks.size(); ++i)
    if (current.chunks[i].samples) sampled_[i] = drawn_[row++];
  std::vector<const Sequence*> finished;
  if (ahead) {
    // Sequences that sampled the EOS token have a row in the step launched ahead: it is dropped.
    for (Sequence* seq : scheduler_->resolve(current, sampled_)) drop_from_in_flight(seq);
    for (const ScheduledChunk& chunk : current.chunks)  // ended by length or by EOS, in chunk order
      if (chunk.seq && chunk.samples && chunk.seq->status == SequenceStatus::Finished) finished.push_back(chunk.seq);
  } else {
    for (Sequence* seq : scheduler_->complete(current, sampled_)) finished.push_back(seq);
  }

  record_step(current, clock.seconds());
  return finished;
}

void LlmEngine::record_step(const SchedulerStep& step, double seconds) {
  int tokens = 0;  // rows of sequences dropped since the launch do not count
  for (const ScheduledChunk& chunk : step.chunks)
    if (chunk.seq) tokens += chunk.num_tokens;
  ++stats_.steps;
  stats_.preemptions += static_cast<int64_t>(step.preempted.size());
  stats_.prefix_cached_tokens = blocks_->cached_tokens_attached();
  if (step.prefill) {
    stats_.prefill_tokens += tokens;
    stats_.prefill_seconds += seconds;
    return;
  }
  stats_.decode_tokens += tokens;
  stats_.decode_seconds += seconds;
  ++stats_.decode_steps;
  stats_.decode_host_seconds += seconds - runner_->last_wait_seconds();
  if (const double gap = runner_->last_decode_gap_seconds(); gap >= 0) {
    ++stats_.decode_gaps;
    stats_.decode_gap_seconds += gap;
  }
}

std::vector<float> LlmEngine::prompt_logits(const std::vector<int32_t>& tokens) {
  const int n = static_cast<int>(tokens.size());
  require(idle(), "prompt_logits: the engine has requests in flight");
  finish_step_in_flight();  // idle: at most a step of dropped rows
  require(n >= 1 && n <= options_.runner.max_num_batched_tokens && n <= options_.runner.max_num_seqs &&
              n <= options_.runner.max_model_len,
          "prompt_logits: " + std::to_string(n) + " tokens exceed one step (--max-num-batched-tokens " +
              std::to_string(options_.runner.max_num_batched_tokens) + ", --max-num-seqs " +
              std::to_string(options_.runner.max_num_seqs) + ", --max-model-len " +
              std::to_string(options_.runner.max_model_len) + ")");
  const int64_t vocab = config().vocab_size;
  const auto bad = std::find_if(tokens.begin(), tokens.end(), [vocab](int32_t t) { return t < 0 || t >= vocab; });
  if (bad != tokens.end()) fail("prompt_logits: token id " + std::to_string(*bad) + " outside the vocabulary");
  Sequence seq(-1, tokens, SamplingParams{});
  require(blocks_->can_hold(seq, n), "prompt_logits: the KV cache cannot hold " + std::to_string(n) + " tokens");
  blocks_->hold(seq, n);
  const int block_size = options_.runner.block_size;
  StepBatch& b = batch_;
  b.clear();
  for (int i = 0; i < n; ++i) {
    b.tokens.push_back(tokens[static_cast<size_t>(i)]);
    b.positions.push_back(i);
    b.slots.push_back(seq.block_table[static_cast<size_t>(i / block_size)] * block_size + i % block_size);
    b.sample_rows.push_back(i);
  }
  b.sample_params.assign(static_cast<size_t>(n), SampleRowParams{});  // greedy: only the logits matter
  b.query_start = {0, n};
  b.seq_len = {n};
  b.block_table = seq.block_table;
  b.block_table.resize(static_cast<size_t>(runner_->max_blocks_per_seq()), 0);
  b.max_query_len = b.max_seq_len = n;
  std::vector<float> logits;
  try {
    runner_->run(b, drawn_, &logits);
  } catch (...) {
    blocks_->release(seq);
    throw;
  }
  blocks_->release(seq);
  return logits;
}

bool LlmEngine::abort_request(int64_t id) {
  for (auto it = sequences_.begin(); it != sequences_.end(); ++it)
    if ((*it)->id == id) {
      const bool held = scheduler_->abort(it->get());
      drop_from_in_flight(it->get());
      sequences_.erase(it);
      return held;
    }
  return false;
}

double LlmEngine::kv_cache_used() const {
  return 1.0 - static_cast<double>(blocks_->free_blocks()) / blocks_->num_blocks();
}

std::string LlmEngine::stats_line() const {
  return engine_stats_line(stats_, scheduler_->num_running(), scheduler_->num_waiting(), kv_cache_used(),
                           blocks_->num_blocks());
}

}  // namespace slidesparse
