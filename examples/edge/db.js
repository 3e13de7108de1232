// Stands in for the application's database: the part the cache keeps load away from.
// It counts reads so the example's test can see the cache at work.

const users = new Map([
  ['42', { id: '42', name: 'Ada Lovelace', team: '7' }],
  ['43', { id: '43', name: 'Grace Hopper', team: '7' }],
]);

export const db = {
  reads: 0,
  async findUser(id) {
    this.reads += 1;
    await new Promise((r) => setTimeout(r, 5)); // a round trip to a database
    const u = users.get(id);
    return u ? { ...u } : null;
  },
  async updateUser(id, data) {
    const u = users.get(id);
    if (!u) return null;
    Object.assign(u, data);
    return { ...u };
  },
};
