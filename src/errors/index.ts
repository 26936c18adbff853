export * from "./codes.ts"
export * from "./GroveError.ts"
