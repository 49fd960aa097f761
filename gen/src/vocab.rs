//! Fixed vocabulary the generator draws from: PyTorch CI job templates, test
//! file pools per test config, operator/variant/dtype names for OpInfo-style
//! test names, skip reasons, stack frames, log lines and property values.
//! Pure data; the choices are made elsewhere.

/// Operating system family of a runner; decides paths, host names and line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Windows,
    Macos,
}

/// One `(build, config, num_shards, runner)` line of the test matrix.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub build: &'static str,
    pub config: &'static str,
    pub num_shards: u32,
    pub runner: &'static str,
    /// "cpu", "cuda" or "mps": the device in generic test names.
    pub device: &'static str,
    pub os: Os,
}

/// The test matrix, one `build config num_shards runner device os` row per
/// line. Jobs are taken shard-major from it, so the first few jobs of any run
/// (the `sample` profile's three) are three different configs on three
/// different kinds of machine.
pub const MATRIX: &str = r"
linux-jammy-py3.9-gcc11                 default        5  linux.2xlarge                   cpu   linux
linux-focal-cuda12.4-py3.10-gcc9        distributed    3  linux.g4dn.12xlarge.nvidia.gpu  cuda  linux
win-vs2022-cpu-py3                      default        3  windows.4xlarge.nonephemeral    cpu   windows
linux-focal-cuda12.4-py3.10-gcc9-sm86   default        5  linux.g5.4xlarge.nvidia.gpu     cuda  linux
linux-jammy-py3.9-gcc11                 dynamo_wrapped 3  linux.2xlarge                   cpu   linux
linux-focal-cuda12.4-py3.10-gcc9-sm86   inductor       2  linux.g5.4xlarge.nvidia.gpu     cuda  linux
linux-jammy-py3.10-clang15-asan         default        6  linux.4xlarge                   cpu   linux
macos-py3-arm64                         default        3  macos-m1-stable                 cpu   macos
linux-jammy-py3.9-gcc11                 distributed    2  linux.2xlarge                   cpu   linux
linux-focal-rocm6.3-py3.10              default        6  linux.rocm.gpu.2                cuda  linux
linux-jammy-py3.9-gcc11                 crossref       2  linux.2xlarge                   cpu   linux
linux-focal-py3.12-clang10              dynamo_wrapped 3  linux.2xlarge                   cpu   linux
win-vs2022-cuda12.6-py3                 default        4  windows.g5.4xlarge.nvidia.gpu   cuda  windows
linux-focal-cuda12.4-py3.10-gcc9-sm86   slow           2  linux.g5.4xlarge.nvidia.gpu     cuda  linux
linux-jammy-py3.9-gcc11                 jit_legacy     1  linux.4xlarge                   cpu   linux
macos-py3-arm64                         mps            1  macos-m1-14                     mps   macos
linux-focal-py3.12-clang10              default        4  linux.4xlarge                   cpu   linux
linux-jammy-cpu-py3.9-gcc11-inductor    inductor_cpu   2  linux.12xlarge                  cpu   linux
linux-jammy-py3.10-gcc11-no-ops         docs_test      1  linux.2xlarge                   cpu   linux
linux-focal-cuda12.4-py3.10-gcc9        nogpu_AVX512   2  linux.4xlarge                   cpu   linux
";

/// The rows of [`MATRIX`].
pub fn templates() -> Vec<Template> {
    MATRIX
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&'static str> = l.split_ascii_whitespace().collect();
            Template {
                build: c[0],
                config: c[1],
                num_shards: c[2].parse().expect("shard count in MATRIX"),
                runner: c[3],
                device: c[4],
                os: match c[5] {
                    "windows" => Os::Windows,
                    "macos" => Os::Macos,
                    _ => Os::Linux,
                },
            }
        })
        .collect()
}

/// The words of a whitespace-separated list constant.
pub fn list(s: &'static str) -> Vec<&'static str> {
    s.split_ascii_whitespace().collect()
}

/// Top-level test files run by most `default`-like configs.
pub const CORE: &str = "\
    test_ops test_torch test_nn test_linalg test_binary_ufuncs test_unary_ufuncs test_reductions \
    test_sparse test_sparse_csr test_autograd test_jit test_fx test_dataloader test_cuda \
    test_modules test_tensor_creation_ops test_shape_ops test_indexing test_view_ops \
    test_type_promotion test_foreach test_optim test_serialization test_meta test_proxy_tensor \
    test_decomp test_schema_check test_prims test_ops_gradients test_ops_jit test_ops_fwd_gradients \
    test_transformers test_nestedtensor test_masked test_spectral_ops test_scatter_gather_ops \
    test_sort_and_select test_testing test_utils test_mkldnn test_quantization test_profiler \
    test_expanded_weights test_functionalization test_namedtensor test_numpy_interop test_complex \
    test_matmul_cuda test_native_mha test_stateless test_segment_reductions test_tensorexpr \
    test_fake_tensor test_python_dispatch test_overrides test_public_bindings test_mobile_optimizer \
    test_cpp_extensions_jit test_multiprocessing test_subclass test_custom_ops test_dlpack \
    test_autocast test_flop_counter test_cuda_multigpu test_nn_cuda test_license test_bundled_inputs";

/// Nested test files (`nn/test_pooling` is `test/nn/test_pooling.py`).
pub const NESTED: &str = "\
    nn/test_convolution nn/test_pooling nn/test_embedding nn/test_init nn/test_dropout \
    nn/test_lazy_modules nn/test_module_hooks nn/test_parametrization functorch/test_ops \
    functorch/test_vmap functorch/test_aotdispatch functorch/test_eager_transforms \
    functorch/test_control_flow export/test_export export/test_serialize export/test_unflatten \
    export/test_torchbind profiler/test_profiler profiler/test_memory_profiler onnx/test_fx_to_onnx \
    onnx/exporter/test_api higher_order_ops/test_with_effects optim/test_lrscheduler \
    optim/test_swa_utils lazy/test_ts_opinfo package/test_save_load package/test_dependency_api \
    typing/test_python_operators test_jit_fuser_te";

/// The `distributed` config's files.
pub const DIST: &str = "\
    distributed/test_c10d_nccl distributed/test_c10d_gloo distributed/test_c10d_common \
    distributed/test_distributed_spawn distributed/test_store distributed/test_data_parallel \
    distributed/fsdp/test_fsdp_core distributed/fsdp/test_fsdp_state_dict \
    distributed/fsdp/test_fsdp_mixed_precision \
    distributed/_composable/fsdp/test_fully_shard_training distributed/_composable/test_replicate \
    distributed/tensor/test_dtensor_ops distributed/tensor/test_api \
    distributed/tensor/parallel/test_tp_examples distributed/elastic/multiprocessing/api_test \
    distributed/pipelining/test_schedule distributed/checkpoint/test_state_dict \
    distributed/rpc/test_tensorpipe_agent distributed/algorithms/quantization/test_quantization \
    distributed/optim/test_zero_redundancy_optimizer distributed/test_c10d_functional_native \
    distributed/test_nccl distributed/test_symmetric_memory";

/// The `inductor` configs' files.
pub const INDUCTOR: &str = "\
    inductor/test_torchinductor inductor/test_torchinductor_opinfo inductor/test_cpu_repro \
    inductor/test_aot_inductor inductor/test_max_autotune inductor/test_compiled_autograd \
    inductor/test_torchinductor_dynamic_shapes inductor/test_pattern_matcher \
    inductor/test_fused_attention inductor/test_cudagraph_trees inductor/test_triton_kernels \
    inductor/test_flex_attention inductor/test_mkldnn_pattern_matcher inductor/test_codecache \
    inductor/test_select_algorithm inductor/test_cpu_select_algorithm inductor/test_padding";

/// The `dynamo_wrapped` config's own files (it also reruns a slice of CORE).
pub const DYNAMO: &str = "\
    dynamo/test_misc dynamo/test_repros dynamo/test_functions dynamo/test_export \
    dynamo/test_dynamic_shapes dynamo/test_higher_order_ops dynamo/test_subclasses \
    dynamo/test_modules dynamo/test_aot_autograd dynamo/test_recompiles dynamo/test_ctx_manager \
    dynamo/test_guard_manager dynamo/test_exceptions";

/// Files under `test/jit/` whose classes `test_jit.py` imports and runs.
pub const JIT_FILES: &str = "\
    jit/test_tracer jit/test_freezing jit/test_symbolic_shape_analysis jit/test_dce \
    jit/test_scriptmod_ann jit/test_module_interface jit/test_recursive_script jit/test_list_dict \
    jit/test_typing jit/test_autodiff jit/test_save_load jit/test_peephole";

/// googletest binaries whose reports land under `cpp-unittest/`.
pub const CPP_TESTS: &str = "\
    test_api test_jit test_lazy c10_intrusive_ptr_test test_tensorexpr";

/// Words for non-generic test names (`test_<a>_<b>`).
pub const WORDS: &str = "\
    basic backward grad gradgrad inplace broadcast indexing serialization pickle large empty scalar \
    multi_gpu deterministic sparse contiguous stride view dynamic_shapes compile export trace script \
    fusion alias autocast channels_last cpu_offload mixed_precision checkpoint hooks state_dict \
    zero_size nan_propagation overflow memory_format device_guard stream event graph capture replay \
    reentrant no_grad requires_grad detach clone copy resize squeeze unsqueeze permute transpose \
    expand repeat cat stack split chunk gather scatter index_put masked_fill where clamp lerp norm \
    dist cdist topk sort unique cumsum logcumsumexp sync async collectives allreduce \
    broadcast_object barrier timeout rank_failure guards recompile graph_break symint unbacked \
    autotune cudagraphs weakref closure generator dataclass";

/// Operators for OpInfo-style generic test names.
pub const OPS: &str = "\
    add sub mul div true_divide floor_divide remainder fmod pow matmul mm bmm addmm addmv baddbmm \
    dot vdot outer kron abs neg exp exp2 expm1 log log2 log10 log1p sqrt rsqrt sin cos tan sinh cosh \
    tanh asin acos atan atan2 sigmoid erf erfc erfinv lgamma digamma polygamma sum prod mean std var \
    amax amin argmax argmin max min median nanmedian mode logsumexp all any cumprod \
    nn_functional_conv1d nn_functional_conv2d nn_functional_conv3d nn_functional_conv_transpose2d \
    nn_functional_linear nn_functional_softmax nn_functional_log_softmax nn_functional_gelu \
    nn_functional_silu nn_functional_relu nn_functional_layer_norm nn_functional_group_norm \
    nn_functional_batch_norm nn_functional_dropout nn_functional_embedding nn_functional_interpolate \
    nn_functional_pad nn_functional_grid_sample nn_functional_scaled_dot_product_attention \
    nn_functional_cross_entropy nn_functional_nll_loss nn_functional_mse_loss linalg_svd linalg_qr \
    linalg_eig linalg_eigh linalg_inv linalg_solve linalg_det linalg_slogdet linalg_cholesky \
    linalg_lstsq linalg_matrix_norm linalg_vector_norm linalg_pinv fft_fft fft_ifft fft_rfft \
    fft_fftn special_i0e special_ndtr special_log_ndtr special_zeta index_select index_add \
    index_copy index_fill masked_scatter masked_select scatter_reduce gather take take_along_dim \
    nonzero unique_consecutive searchsorted bucketize histc bincount cross diag diag_embed diagonal \
    tril triu trace flip roll rot90 narrow unfold as_strided view_as_real view_as_complex clamp_min \
    clamp_max hypot logit nextafter frexp ldexp copysign heaviside";

/// OpInfo test variants (the `test_<variant>_<op>_<device>_<dtype>` prefix).
pub const VARIANTS: &str = "\
    out out_warning variant_consistency_eager noncontiguous_samples python_ref python_ref_executor \
    python_ref_torch_fallback dtypes compare_cpu conj_view neg_view numpy_ref errors \
    multiple_devices complex_half_reference_testing correctness fn_grad fn_gradgrad inplace_grad \
    forward_mode_AD fn_fwgrad_bwgrad vmap_exhaustive vmapvjp vjp jvp reference_numerics_normal \
    reference_numerics_extremal reference_numerics_small reference_numerics_large batched_grad \
    contig_vs_every_other non_standard_bool_values fake_crossref_backward_amp fake_autocast operator \
    meta_outplace meta_inplace dispatch_meta_outplace dispatch_symbolic_meta_outplace tags \
    schema_correctness";

/// Dtype suffixes per device.
pub fn dtypes(device: &str) -> &'static [&'static str] {
    match device {
        "cuda" => &[
            "float32",
            "float64",
            "bfloat16",
            "float16",
            "complex32",
            "complex64",
            "complex128",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "bool",
        ],
        "mps" => &[
            "float32", "float16", "bfloat16", "int32", "int64", "uint8", "bool",
        ],
        _ => &[
            "float32",
            "float64",
            "bfloat16",
            "float16",
            "complex64",
            "complex128",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "bool",
        ],
    }
}

/// Class-name suffix of device-generic test classes.
pub fn device_suffix(device: &str) -> &'static str {
    match device {
        "cuda" => "CUDA",
        "mps" => "MPS",
        _ => "CPU",
    }
}

/// Test files whose classes are OpInfo-parametrized (long generated names).
pub const OPSY: &str = "\
    test_ops test_ops_gradients test_ops_jit test_ops_fwd_gradients test_decomp test_meta \
    test_binary_ufuncs test_unary_ufuncs test_reductions test_torchinductor_opinfo test_proxy_tensor \
    test_schema_check test_prims";

/// Test files that carry much more than their share of a shard's tests.
pub const HEAVY: &str = "\
    test_ops test_torchinductor_opinfo test_decomp test_meta test_ops_gradients test_torch test_nn \
    test_linalg test_torchinductor test_dtensor_ops";

/// Class names that do not follow the `Test<File>` pattern, by file basename.
pub fn known_classes(base: &str) -> Option<&'static [&'static str]> {
    Some(match base {
        "test_torchinductor" => &[
            "CpuTests",
            "GPUTests",
            "SweepInputsCpuTest",
            "TestFailure",
            "CommonTemplate",
        ],
        "test_c10d_nccl" => &[
            "ProcessGroupNCCLGroupTest",
            "DistributedDataParallelTest",
            "NcclErrorHandlingTest",
            "CommTest",
        ],
        "test_c10d_gloo" => &[
            "ProcessGroupGlooTest",
            "DistributedDataParallelTest",
            "GlooProcessGroupWithDispatchedCollectivesTests",
        ],
        "test_distributed_spawn" => &["TestDistBackendWithSpawn"],
        "test_misc" => &["MiscTests", "TestTracer", "TestCustomFunction"],
        "test_repros" => &["ReproTests"],
        "test_fsdp_core" => &["TestParityWithDDP", "TestHooks", "TestNoGrad"],
        "api_test" => &[
            "RunProcResultsTest",
            "StartProcessesTest",
            "StartProcessesListTest",
        ],
        _ => return None,
    })
}

/// `pytest.skip` reasons; `{n}` is replaced by an issue number.
pub const SKIP_REASONS: &[&str] = &[
    "Only runs on cuda",
    "test is slow; run with PYTORCH_TEST_WITH_SLOW to enable test",
    "Skipped!",
    "dtype not supported: torch.bfloat16",
    "no MKL",
    "Requires at least 2 CUDA devices",
    "test doesn't currently work on the ROCm stack",
    "Test is disabled because an issue exists disabling it: https://github.com/pytorch/pytorch/issues/{n} for platform(s) linux, rocm. If you're seeing this on your local machine and would like to enable this test, please make sure CI is not set and you are not using the flag --import-disabled-tests.",
    "not implemented: Could not run 'aten::_foo_{n}' with arguments from the 'SparseCUDA' backend.",
    "Does not work with dynamo <torch._dynamo.eval_frame> & \"compiled\" autograd",
    "c10d was not compiled with the NCCL backend",
    "Test requires Triton ≥ 3.0 — skipping on this platform",
    "Skipped under ASAN",
    "Need torchvision to run this test",
    "Only works on linux x86",
];

/// `pytest.xfail` reasons.
pub const XFAIL_REASONS: &[&str] = &[
    "expected failure",
    "https://github.com/pytorch/pytorch/issues/{n}",
    "unsupported: aten._local_scalar_dense",
    "Inductor does not support complex dtypes yet",
];

/// Reasons target determination gives for excluding a test file.
pub const TD_REASONS: &[&str] = &[
    "Excluded by TD: low relevance score",
    "not in the top 25% of tests ranked by heuristics",
    "file not related to changed files (correlation 0.00)",
    "no recent failures and no changed dependencies",
];

/// (file under site-packages, function, statement) of the test harness's
/// wrapper frames, which come before the test's own frame in a traceback.
pub const OUTER_FRAMES: &[(&str, &str, &str)] = &[
    (
        "torch/testing/_internal/common_utils.py",
        "wrapper",
        "method(*args, **kwargs)",
    ),
    (
        "torch/testing/_internal/common_device_type.py",
        "instantiated_test",
        "result = test(self, **param_kwargs)",
    ),
    (
        "torch/testing/_internal/common_distributed.py",
        "wrapper",
        "fn()",
    ),
    (
        "torch/testing/_internal/common_utils.py",
        "run_test",
        "getattr(self, test_name)()",
    ),
];

/// Frames below the test's own frame (library code that raised).
pub const INNER_FRAMES: &[(&str, &str, &str)] = &[
    (
        "torch/testing/_internal/common_utils.py",
        "assertEqual",
        "raise error_metas.pop()[0].to_error(",
    ),
    (
        "torch/_dynamo/eval_frame.py",
        "_fn",
        "return fn(*args, **kwargs)",
    ),
    (
        "torch/_dynamo/convert_frame.py",
        "_compile",
        "guarded_code = compile_inner(code, one_graph, hooks, transform)",
    ),
    (
        "torch/_dynamo/symbolic_convert.py",
        "step",
        "self.dispatch_table[inst.opcode](self, inst)",
    ),
    (
        "torch/_inductor/compile_fx.py",
        "compile_fx_inner",
        "compiled_graph = FxGraphCache.load(",
    ),
    (
        "torch/_inductor/graph.py",
        "run_node",
        "result = super().run_node(n)",
    ),
    (
        "torch/nn/modules/module.py",
        "_call_impl",
        "return forward_call(*args, **kwargs)",
    ),
    (
        "torch/testing/_internal/common_distributed.py",
        "_check_return_codes",
        "raise RuntimeError(error)",
    ),
    (
        "torch/autograd/__init__.py",
        "backward",
        "_engine_run_backward(",
    ),
    (
        "torch/_ops.py",
        "__call__",
        "return self._op(*args, **(kwargs or {}))",
    ),
];

/// Values of `<property>` elements that stress int()/float() conversion.
pub const TRICKY_PROPERTY_VALUES: &[&str] = &[
    "3", "0.25", "nan", "-inf", "1_000", " 42 ", "0x1F", "Infinity", "1e-05", "true", "", "١٢٣",
    "+7", "-0.0", "1e400", "07", "1__0", "NaN", "iNfInItY", "2.5E+3",
];
