// Facts: analyses that rules share, built once per package and analysis run, like go/analysis
// results. A rule lists the facts it needs in `requires` and asks `pass.get(Fact)`; a fact may ask
// for other facts while it builds. Everything is dropped when the analysis of the package ends,
// together with the trees' caches (analyze.ts), so no fact outlives the text it describes.
import type { Package } from './package';

export interface Fact<T> {
  /** Names the fact in errors and profiles. */
  readonly name: string;
  build(facts: Facts): T;
}

/** What a fact's build sees: the package and the other facts. */
export interface Facts {
  readonly pkg: Package;
  get<T>(fact: Fact<T>): T;
}

/** The facts of one package during one analysis: each built on first use, at most once. */
export class FactStore implements Facts {
  private readonly built = new Map<Fact<unknown>, unknown>();
  private readonly building = new Set<Fact<unknown>>();

  constructor(readonly pkg: Package) {}

  get<T>(fact: Fact<T>): T {
    if (this.built.has(fact)) return this.built.get(fact) as T;
    if (this.building.has(fact)) throw new Error(`racelens: fact ${fact.name} depends on itself`);
    this.building.add(fact);
    try {
      const value = fact.build(this);
      this.built.set(fact, value);
      return value;
    } finally {
      this.building.delete(fact);
    }
  }
}
