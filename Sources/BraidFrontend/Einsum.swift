import BraidIR

/// `np.einsum`: contractions written as subscript strings.
extension NumPyRegistry {
    static func registerEinsum(_ r: inout [String: NumPyFunction]) {
    }
}
