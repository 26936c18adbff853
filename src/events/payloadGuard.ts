import { Option, ParseResult, Schema, SchemaAST as AST } from "effect"

/** A plain predicate: whether a value is of a Schema's type. */
export type Guard = (u: unknown) => boolean

// The options `Schema.is` parses with: a required key must be present (not merely undefined-valued).
const isOptions: AST.ParseOptions = { exact: true }

/**
 * `Schema.is(schema)` compiled into plain JavaScript: the same answer for every
 * value, without building the parse results that Schema's interpreter
 * allocates on every call (0.13 µs against 0.73 µs a payload of the rebuild
 * benchmark's log; a rebuild and a pull check every stored payload). Structs, records, unions,
 * literals, keywords, arrays and refinements are compiled, each refinement
 * calling its own filter; any other node is checked by `Schema.is` on that
 * node. test/payloadGuard.test.ts compares both on generated values.
 */
export const compileGuard = (schema: Schema.Schema<any, any>): Guard => compile(AST.typeAST(schema.ast))

const compile = (ast: AST.AST): Guard => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "NeverKeyword":
      return () => false
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      const members = ast.types.map(compile)
      return (u) => members.some((member) => member(u))
    }
    case "Refinement": {
      const from = compile(ast.from)
      return (u) => from(u) && Option.isNone(ast.filter(u, isOptions, ast))
    }
    case "Suspend": {
      let inner: Guard | undefined
      return (u) => (inner ??= compile(ast.f()))(u)
    }
    case "TupleType":
      if (ast.elements.length === 0 && ast.rest.length === 1) {
        const element = compile(ast.rest[0]!.type)
        return (u) => Array.isArray(u) && u.every((x) => element(x))
      }
      return interpreted(ast)
    case "TypeLiteral":
      return typeLiteral(ast)
    default:
      return interpreted(ast)
  }
}

const interpreted = (ast: AST.AST): Guard => ParseResult.is(Schema.make(ast))

/** A struct or record: a non-array object whose own keys carry what each signature says. */
const typeLiteral = (ast: AST.TypeLiteral): Guard => {
  if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) return (u) => u !== null && u !== undefined
  // Keys of records are strings (Object.keys); symbol keys are left to the interpreter.
  if (ast.propertySignatures.some((p) => typeof p.name !== "string") || ast.indexSignatures.some((s) => stringKeyed(s.parameter) === false)) {
    return interpreted(ast)
  }
  const properties = ast.propertySignatures.map((p) => ({ name: p.name as string, optional: p.isOptional, check: compile(p.type) }))
  const indexes = ast.indexSignatures.map((s) => ({ key: compile(s.parameter), value: compile(s.type) }))
  return (u) => {
    if (typeof u !== "object" || u === null || Array.isArray(u)) return false
    const record = u as Record<string, unknown>
    for (const p of properties) {
      if (!Object.hasOwn(record, p.name)) {
        if (p.optional) continue
        return false
      }
      if (!p.check(record[p.name])) return false
    }
    for (const index of indexes) {
      for (const key of Object.keys(record)) if (index.key(key) && !index.value(record[key])) return false
    }
    return true
  }
}

const stringKeyed = (parameter: AST.AST): boolean =>
  parameter._tag === "StringKeyword" || parameter._tag === "TemplateLiteral" || (parameter._tag === "Refinement" && stringKeyed(parameter.from))
