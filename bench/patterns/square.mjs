// The task of the benchmark, as piscina and tinypool load it: a module's default export.
export default (x) => x * x
export const square = (x) => x * x
