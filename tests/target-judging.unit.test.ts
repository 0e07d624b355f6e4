import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDocumentation } from '../activities/intake/documentation';
import { brainstorm } from '../agents/heuristic/brainstormer';
import { profileForModel } from '../agents/openai';
import { profileTable, type TableProfile } from '../activities/intake/profile';
import { type Cell, readTable, type Table } from '../activities/intake/read-table';
import { corpusDatasetPath, type CorpusName } from '../examples/dev-corpus';

const cacheDir = mkdtempSync(join(tmpdir(), 'anvil-targets-'));

async function tableOf(name: CorpusName): Promise<Table> {
  return (await readTable(await corpusDatasetPath(name, cacheDir))).table;
}

function withColumns(table: Table, extra: Record<string, Cell[]>): Table {
  return {
    rows: table.rows,
    columns: [...table.columns, ...Object.keys(extra)],
    values: [...table.values, ...Object.values(extra)],
  };
}

const valuesOf = (table: Table, name: string) => table.values[table.columns.indexOf(name)]!;
const reasonOf = (profile: TableProfile, name: string) => profile.columns.find((c) => c.name === name)?.notTarget;
const targetsOf = (profile: TableProfile) => profile.candidateTargets.map((c) => `${c.column}:${c.taskType}`);

/** Intake's judgement of which columns are targets, rule by rule, on real tables with planted columns. */
describe('target judging', () => {
  let seattle: Table;
  let wages: Table;
  let penguins: Table;
  beforeAll(async () => {
    const names: CorpusName[] = ['seattle-weather', 'cps-wages-1985', 'penguins'];
    [seattle, wages, penguins] = (await Promise.all(names.map(tableOf))) as [Table, Table, Table];
  });

  it('daily data: the numeric series is forecast first; a ball-game schedule and a holiday flag are no targets', () => {
    const weekday = valuesOf(seattle, 'date').map((d) => new Date(d!).getUTCDay());
    const profile = profileTable(
      withColumns(seattle, {
        ballgame: weekday.map((d) => (d === 0 ? 'home' : d === 3 ? 'away' : 'none')),
        is_holiday: weekday.map((d, i) => (i % 50 === 0 ? 'yes' : 'no')),
      }),
    );
    expect(profile.timeIndex).toBe('date');
    expect(profile.candidateTargets[0]).toMatchObject({ taskType: 'forecasting', outcome: true });
    expect(reasonOf(profile, 'ballgame')).toMatch(/schedule or event indicator/);
    expect(reasonOf(profile, 'is_holiday')).toMatch(/schedule or event indicator/);
    expect(targetsOf(profile)).toContain('weather:multiclass-classification'); // an observed outcome stays
  });

  it('a total of other columns, or their product, is arithmetic: checked by a linear fit (in logs for products)', () => {
    const wage = valuesOf(wages, 'wage').map(Number);
    const age = valuesOf(wages, 'age').map(Number);
    const profile = profileTable(
      withColumns(wages, { lifetime_earnings: wage.map((w, i) => (w * age[i]! * 2000).toFixed(2)) }),
    );
    expect(targetsOf(profile)).toEqual(['wage:regression']);
    expect(reasonOf(profile, 'lifetime_earnings')).toMatch(
      /near-deterministic function of .*"wage".*"age"|"age".*"wage"/,
    );
    expect(reasonOf(profile, 'lifetime_earnings')).toMatch(/product of powers/);
    // experience = age − education − 6 in this survey: whichever of the three is judged first is the derived one
    const triple = ['age', 'education', 'experience'];
    const derived = triple.filter((c) => /near-deterministic function/.test(reasonOf(profile, c) ?? ''));
    expect(derived).toHaveLength(1);
    for (const other of triple.filter((c) => c !== derived[0]))
      expect(reasonOf(profile, derived[0]!)).toContain(`"${other}"`);
  });

  it('coordinates and date parts are no targets, whatever the data is for', () => {
    const n = penguins.rows;
    const profile = profileTable(
      withColumns(penguins, {
        latitude: Array.from({ length: n }, (_, i) => (-64.7 - (i % 17) / 100).toFixed(3)),
        lon: Array.from({ length: n }, (_, i) => (-64.0 + (i % 23) / 100).toFixed(3)),
        month: Array.from({ length: n }, (_, i) => String(1 + (i % 3))),
      }),
    );
    expect(targetsOf(profile)).toEqual(['Species:multiclass-classification']);
    expect(reasonOf(profile, 'latitude')).toMatch(/coordinate/);
    expect(reasonOf(profile, 'lon')).toMatch(/coordinate/);
    expect(reasonOf(profile, 'month')).toMatch(/date part/);
  });

  it("a panel: the series' names and fixed attributes are no targets; each numeric series is forecast along time", async () => {
    const profile = profileTable(await tableOf('gapminder'));
    expect(profile).toMatchObject({ timeIndex: 'year', keyColumns: ['country'] });
    expect(reasonOf(profile, 'country')).toMatch(/too many to be classes|names the series/);
    expect(reasonOf(profile, 'cluster')).toMatch(/fixed attribute of each series/);
    expect(targetsOf(profile).every((t) => t.endsWith(':forecasting'))).toBe(true);
  });

  it("the dataset's README names its outcome; without one, the last column leads and nothing is called an outcome", async () => {
    // Boston's medv, renamed so that its name alone says nothing: only the README tells what it is.
    const folder = await corpusDatasetPath('boston-housing', cacheDir);
    const { table } = await readTable(folder);
    const renamed = { ...table, columns: table.columns.map((c) => (c === 'medv' ? 'mv' : c)) };
    const readme = (await readDocumentation(folder))!.replaceAll('**medv**', '**mv**');
    const documented = profileTable(renamed, readme);
    expect(documented.candidateTargets).toEqual([
      expect.objectContaining({ column: 'mv', outcome: true, reason: expect.stringMatching(/documentation/) }),
    ]);
    expect(reasonOf(documented, 'chas')).toMatch(/an input that explains the outcome "mv"/);
    const bare = profileTable(renamed);
    expect(bare.candidateTargets[0]).toMatchObject({ column: 'mv', outcome: false });
    expect(bare.candidateTargets.some((c) => c.outcome)).toBe(false);
    // No outcome known: the Brainstormer makes one best guess rather than a task per column.
    const profile = { name: 'boston', source: { files: [], format: 'folder' as const }, dataFile: folder, ...bare };
    expect(brainstorm({ profile, maxTasks: 3 }).map((p) => p.target)).toEqual(['mv']);
  });

  it('a 26-class label among numeric measurements is a legitimate target, ahead of the measurements', () => {
    const n = penguins.rows;
    const letters = Array.from({ length: n }, (_, i) => String.fromCharCode(65 + (i % 26)));
    const measures = penguins.columns.filter((c) => /\(mm\)|\(g\)/.test(c));
    const table: Table = {
      rows: n,
      columns: ['lettr', ...measures],
      values: [letters, ...measures.map((m) => valuesOf(penguins, m))],
    };
    const profile = profileTable(table);
    expect(profile.candidateTargets[0]).toMatchObject({ column: 'lettr', taskType: 'multiclass-classification' });
    expect(profile.candidateTargets[0]!.reason).toMatch(/^26 classes/);
  });
});

describe('the openai Brainstormer gets the same facts', () => {
  it("sees each column's judgement, the outcome flags, the time index and keys, and the README", async () => {
    const folder = await corpusDatasetPath('us-births', cacheDir);
    const { table, format } = await readTable(folder);
    const documentation = await readDocumentation(folder);
    const profile = {
      name: 'us-births',
      source: { files: [], format },
      dataFile: folder,
      documentation,
      ...profileTable(table, documentation),
    };
    const seen = profileForModel(profile);
    expect(seen.candidateTargets[0]).toMatchObject({ column: 'births', taskType: 'forecasting', outcome: true });
    expect(seen.columns.find((c) => c.name === 'day_of_week')?.notTarget).toMatch(/date part/);
    expect(seen).toMatchObject({ timeIndex: 'year', keyColumns: ['month', 'date_of_month'] });
    expect(seen.documentation).toMatch(/births/i);
  });
});
