import BraidIR

/// `np.linalg` functions (keys are the path after `numpy.`, e.g. "linalg.solve").
enum LinalgRegistry {
    static let functions: [String: NumPyFunction] = [:]
}
