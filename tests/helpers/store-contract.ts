import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { getTree, putTree, sessionStore, type ArtifactStore } from '../../package/store';

const scratch = () => mkdtempSync(join(tmpdir(), 'anvil-store-'));

function writeFolder(files: Record<string, string>): string {
  const dir = scratch();
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

/** What every ArtifactStore backend must do; `open` gives a fresh, empty store. */
export function storeContract(open: () => ArtifactStore) {
  it('puts, gets, lists and removes objects by key', async () => {
    const store = open();
    await store.put('catalog/iris/task.json', '{"id":"iris"}');
    await store.put('trajectories/s1/steps.jsonl', Buffer.from('{"step":1}\n'));
    expect((await store.get('catalog/iris/task.json'))?.toString()).toBe('{"id":"iris"}');
    expect(await store.get('catalog/none')).toBeUndefined();
    expect(await store.list('catalog/')).toEqual(['catalog/iris/task.json']);
    await store.put('catalog/top', 'x');
    expect((await store.children('catalog/')).sort()).toEqual(['iris', 'top']);
    expect(await store.children('none/')).toEqual([]);
    await store.remove('catalog/');
    expect(await store.list('catalog/')).toEqual([]);
    expect(await store.list('trajectories/')).toEqual(['trajectories/s1/steps.jsonl']);
    await expect(store.put('../outside', 'x')).rejects.toThrow(/not a relative path/);
  });

  it('lists objects with their sizes and an etag that changes when an object is replaced', async () => {
    const store = open();
    await store.put('forge/f1/task.json', '{"id":"iris"}');
    await store.put('forge/f1/public/train.csv', 'a,b\n1,2\n');
    await store.put('forge/f10/other', 'x');
    const before = await store.listVersions('forge/f1/');
    expect(before.map((v) => [v.key, v.size]).sort()).toEqual([
      ['forge/f1/public/train.csv', 8],
      ['forge/f1/task.json', 13],
    ]);
    const [one] = await store.listVersions('forge/f1/task.json');
    expect(one).toEqual(before.find((v) => v.key === 'forge/f1/task.json'));
    await store.put('forge/f1/task.json', '{"id":"wine"}');
    const [replaced] = await store.listVersions('forge/f1/task.json');
    expect(replaced!.size).toBe(13);
    expect(replaced!.etag).not.toBe(one!.etag);
    expect(await store.listVersions('forge/f1/none')).toEqual([]);
  });

  it('never shows a reader part of an object being overwritten', async () => {
    const store = open();
    const versions = ['a', 'b', 'c', 'd'].map((c) => c.repeat(4 << 20));
    await store.put('big', versions[0]!);
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const body = (await store.get('big'))!.toString();
        seen.add(body.length === 4 << 20 && body === body[0]!.repeat(body.length) ? body[0]! : `torn:${body.length}`);
      }
    })();
    for (const v of versions.slice(1)) await store.put('big', v);
    writing = false;
    await reader;
    expect([...seen].filter((s) => s.startsWith('torn'))).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
  });

  it('shows a tree (a task) whole: the old one or the new one, never a mix', async () => {
    const store = open();
    const files = (v: string) => Object.fromEntries(['task.json', 'public/train.csv', 'metric.py'].map((f) => [f, v]));
    await putTree(store, 'catalog/iris', writeFolder(files('v1')));
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const into = scratch();
        await getTree(store, 'catalog/iris', into);
        seen.add(
          Object.keys(files(''))
            .map((f) => readFileSync(join(into, f), 'utf8'))
            .join(','),
        );
      }
    })();
    for (const v of ['v2', 'v3', 'v4']) await putTree(store, 'catalog/iris', writeFolder(files(v)));
    writing = false;
    await reader;
    expect([...seen].every((s) => /^(v\d),\1,\1$/.test(s))).toBe(true);
    const last = scratch();
    expect(await getTree(store, 'catalog/iris', last)).toBe(true);
    expect(readFileSync(join(last, 'public', 'train.csv'), 'utf8')).toBe('v4');
    expect(await getTree(store, 'catalog/none', scratch())).toBe(false);
  });

  it('moves a session: the new host starts from the last snapshot and the lost host is fenced out', async () => {
    const store = open();
    const session = sessionStore(store, 'env-1');
    await session.advance(1);
    await session.putTree(1, 'workspace', writeFolder({ 'model.pkl': 'host-a step 3' }));

    // The session moves to host B: epoch 2, and B's workspace comes from A's last snapshot.
    await session.advance(2);
    const onB = scratch();
    expect(await session.getTree('workspace', onB)).toBe(1);
    expect(readFileSync(join(onB, 'model.pkl'), 'utf8')).toBe('host-a step 3');

    // A, still running, can no longer write.
    await expect(session.putTree(1, 'workspace', writeFolder({ 'model.pkl': 'host-a step 4' }))).rejects.toThrow(
      /epoch 1, but the store's owner is epoch 2/,
    );
    await expect(session.put(1, 'steps.jsonl', 'late')).rejects.toMatchObject({ type: 'FencedOut' });
    // A stale mover cannot take the session back.
    await expect(session.advance(2)).rejects.toMatchObject({ type: 'FencedOut' });

    await session.putTree(2, 'workspace', writeFolder({ 'model.pkl': 'host-b step 4' }));
    // A write of A's that slipped past the check lands under its own epoch, where no reader looks.
    await store.put('sessions/env-1/e-0000000001/steps.jsonl', 'slipped');
    await session.put(2, 'steps.jsonl', 'host-b');
    const later = scratch();
    expect(await session.getTree('workspace', later)).toBe(2);
    expect(readFileSync(join(later, 'model.pkl'), 'utf8')).toBe('host-b step 4');
    expect((await session.get('steps.jsonl'))?.toString()).toBe('host-b');
  });
}
