describe('x', () => {});
