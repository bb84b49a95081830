using Observatoire.Reference;

namespace Observatoire.Tests.Reference;

public sealed class PopulationBandsTests
{
    [Theory]
    [InlineData(0, "<500")]
    [InlineData(499, "<500")]
    [InlineData(500, "500-1999")]
    [InlineData(3499, "2000-3499")]
    [InlineData(3500, "3500-9999")]
    [InlineData(99_999, "50000-99999")]
    [InlineData(100_000, ">=100000")]
    [InlineData(2_100_000, ">=100000")]
    public void Bands_have_inclusive_lower_bounds(int population, string band) => Assert.Equal(band, PopulationBands.Of(population));

    [Fact]
    public void Unknown_population_has_no_band() => Assert.Null(PopulationBands.Of(null));

    [Theory]
    [InlineData("COM", 3500, null, true)]
    [InlineData("COM", 3499, null, false)]
    [InlineData("COM", 80_000, 49, false)]
    [InlineData("CA", 80_000, 50, true)]
    [InlineData("COLOM", 80_000, null, false)]
    public void Obligation_needs_population_and_staff_when_known(string type, int pop, int? staff, bool obliged) =>
        Assert.Equal(obliged, Obligation.IsObliged(type, pop, staff));
}
