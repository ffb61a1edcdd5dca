"""The demo district's IFC buildings: archetypes a French planner recognises, as parameters of
:func:`ingest.demo.ifc_builder.build_ifc`.

Placed around a square of a town centre in Lambert-93 (EPSG:2154), in the Lyon area so that the Lyon-Bron
weather applies. Dimensions follow the issue's brief and common French practice: a 1970s office slab 13 m deep
on a 5.4 m column grid with 3.2 m floor-to-floor (the "Construire réversible" depth, methods.md 1.2 row 1);
a 1990s office 20 m deep with a central core and a suspended ceiling leaving 2.5 m; a 1960s housing bar on
load-bearing cross walls every 6 m; a 2000s school; a car park with 2.3 m clear on its decks over a 4.0 m ground
floor; a town hall; a mixed building with shops on a 4.2 m ground floor; three houses.

U-values: where the archetype's period gives one, it is the 3CL-DPE default of that period for zone H1
(methods.md 2.2, "Default U" table); window U-values from the same section's window row. Imposed floor loads of
the design use from methods.md 1.3 (French column). Wall U-values are sometimes left out on purpose so that the
reader has to compute them from the material layers (as for real files).
"""

from __future__ import annotations

from ingest.demo.ifc_builder import BuildingSpec, Layer, Placement, SpaceRow

__all__ = ["DISTRICT_ORIGIN", "archetypes"]

DISTRICT_ORIGIN = (843_200.0, 6_519_400.0)
"""Lambert-93 coordinates of the district's central square (Lyon area). Each IFC building stands inside
one block of the central quarter (blocks are 96 m x 76 m, see :mod:`ingest.demo.district`)."""

_CONCRETE = "Béton armé"
_OLD_FACADE = (
    Layer(_CONCRETE, 0.16, "concrete"),
    Layer("Laine de verre", 0.04, "insulation"),
    Layer("Plaque de plâtre", 0.013, "gypsum"),
)
_NINETIES_FACADE = (
    Layer(_CONCRETE, 0.18, "concrete"),
    Layer("Polystyrène expansé", 0.08, "insulation"),
    Layer("Plaque de plâtre", 0.013, "gypsum"),
)
_SIXTIES_FACADE = (Layer(_CONCRETE, 0.20, "concrete"), Layer("Enduit", 0.02, "plaster"))
_ITE_FACADE = (
    Layer("Enduit", 0.01, "plaster"),
    Layer("Polystyrène expansé", 0.14, "insulation"),
    Layer(_CONCRETE, 0.18, "concrete"),
)
_STONE_FACADE = (Layer("Pierre calcaire", 0.50, "masonry"), Layer("Enduit plâtre", 0.02, "plaster"))
_RECENT_FACADE = (
    Layer("Brique monomur", 0.20, "masonry"),
    Layer("Laine de roche", 0.12, "insulation"),
    Layer("Plaque de plâtre", 0.013, "gypsum"),
)


def archetypes(origin: tuple[float, float] = DISTRICT_ORIGIN) -> list[BuildingSpec]:
    """The ten IFC buildings of the demo district, placed relative to ``origin`` (Lambert-93)."""
    x0, y0 = origin

    def at(dx: float, dy: float, rotation: float = 0.0) -> Placement:
        return Placement(x0 + dx, y0 + dy, rotation)

    return [
        BuildingSpec(
            key="office_1972",
            name="Tour Lumière (bureaux 1972)",
            use="office",
            year=1972,
            length_m=54.0,
            depth_m=13.0,
            storeys=6,
            floor_to_floor_m=3.2,
            slab_m=0.25,
            structure="columns",
            grid_m=5.4,
            column_rows=3,
            core="facade",
            stairs=2,
            lifts=2,
            shafts=4,
            wall_layers=_OLD_FACADE,
            wall_u_w_m2k=None,
            window_u_w_m2k=5.8,
            roof_u_w_m2k=2.5,
            floor_u_w_m2k=2.0,
            imposed_load_kn_m2=2.5,
            space_rows=(SpaceRow("Bureau", "Plateau de bureaux", "office", 5),),
            ground_space_rows=(
                SpaceRow("Hall", "Hall d'accueil", "lobby", 1),
                SpaceRow("Bureau", "Plateau de bureaux", "office", 4),
            ),
            placement=at(-150.0, 60.0),
        ),
        BuildingSpec(
            key="office_1992",
            name="Le Central (bureaux 1992)",
            use="office",
            year=1992,
            length_m=40.5,
            depth_m=20.0,
            storeys=5,
            floor_to_floor_m=2.9,
            slab_m=0.25,
            ceiling_void_m=0.15,
            structure="columns",
            grid_m=8.1,
            column_rows=4,
            core="central",
            stairs=2,
            lifts=2,
            shafts=2,
            wall_layers=_NINETIES_FACADE,
            wall_u_w_m2k=0.5,
            window_u_w_m2k=3.2,
            roof_u_w_m2k=0.40,
            floor_u_w_m2k=0.5,
            imposed_load_kn_m2=3.5,
            space_rows=(SpaceRow("Open space", "Bureaux paysagers", "office", 3),),
            placement=at(-40.0, 60.0),
        ),
        BuildingSpec(
            key="housing_1963",
            name="Barre Les Tilleuls (logements 1963)",
            use="housing",
            year=1963,
            length_m=60.0,
            depth_m=10.5,
            storeys=5,
            floor_to_floor_m=2.7,
            slab_m=0.16,
            structure="cross_walls",
            grid_m=6.0,
            core="facade",
            stairs=3,
            lifts=0,
            shafts=3,
            wall_layers=_SIXTIES_FACADE,
            wall_u_w_m2k=2.5,
            window_u_w_m2k=2.9,
            roof_u_w_m2k=2.5,
            floor_u_w_m2k=2.0,
            imposed_load_kn_m2=1.5,
            window_width_m=1.2,
            window_height_m=1.35,
            space_rows=(SpaceRow("Logement", "Appartement T3", "housing", 10),),
            placement=at(75.0, 58.0, 10.0),
        ),
        BuildingSpec(
            key="school_2005",
            name="Groupe scolaire Jean Moulin (2005)",
            use="school",
            year=2005,
            length_m=50.4,
            depth_m=16.0,
            storeys=2,
            floor_to_floor_m=3.6,
            slab_m=0.25,
            structure="columns",
            grid_m=7.2,
            column_rows=3,
            core="facade",
            stairs=2,
            lifts=1,
            shafts=2,
            wall_layers=_ITE_FACADE,
            wall_u_w_m2k=0.40,
            window_u_w_m2k=1.6,
            roof_u_w_m2k=0.30,
            floor_u_w_m2k=0.30,
            imposed_load_kn_m2=2.5,
            space_rows=(SpaceRow("Salle de classe", "Salle de classe élémentaire", "classroom", 6, 28),),
            ground_space_rows=(
                SpaceRow("Salle de classe", "Salle de classe maternelle", "classroom", 3, 25),
                SpaceRow("Cantine", "Restaurant scolaire", "canteen", 1, 150),
                SpaceRow("Gymnase", "Salle de sport", "gym", 2, 60),
            ),
            placement=at(-150.0, -20.0),
        ),
        BuildingSpec(
            key="car_park_1985",
            name="Parking Hôtel de Ville (1985)",
            use="parking",
            year=1985,
            length_m=60.0,
            depth_m=32.0,
            storeys=4,
            floor_to_floor_m=2.6,
            ground_floor_to_floor_m=4.0,
            slab_m=0.30,
            structure="columns",
            grid_m=7.5,
            column_rows=5,
            column_size_m=0.5,
            core="facade",
            stairs=2,
            lifts=1,
            shafts=0,
            wall_layers=(Layer(_CONCRETE, 0.20, "concrete"),),
            wall_u_w_m2k=None,
            windows_per_bay=0,
            upper_wall_height_m=1.1,
            ramps=1,
            roof_u_w_m2k=2.5,
            floor_u_w_m2k=2.0,
            imposed_load_kn_m2=2.5,
            space_rows=(SpaceRow("Niveau", "Niveau de stationnement", "parking", 1),),
            placement=at(-30.0, -110.0),
        ),
        BuildingSpec(
            key="town_hall_1884",
            name="Hôtel de Ville (1884)",
            use="public",
            year=1884,
            length_m=36.0,
            depth_m=16.0,
            storeys=3,
            floor_to_floor_m=3.8,
            slab_m=0.30,
            structure="bearing_facades",
            grid_m=4.0,
            core="central",
            stairs=1,
            lifts=1,
            shafts=1,
            wall_layers=_STONE_FACADE,
            wall_u_w_m2k=None,
            window_u_w_m2k=2.9,
            roof_u_w_m2k=2.5,
            floor_u_w_m2k=2.0,
            imposed_load_kn_m2=2.5,
            window_width_m=1.3,
            window_height_m=2.4,
            sill_m=0.6,
            space_rows=(SpaceRow("Bureau", "Bureaux municipaux", "office", 4),),
            ground_space_rows=(
                SpaceRow("Accueil", "Accueil du public", "lobby", 1),
                SpaceRow("Salle du conseil", "Salle du conseil municipal", "assembly", 1, 120),
            ),
            fire_rating="REI30",
            placement=at(-18.0, -8.0),
        ),
        BuildingSpec(
            key="mixed_2012",
            name="Îlot République (commerces et logements 2012)",
            use="housing",
            year=2012,
            length_m=36.0,
            depth_m=12.0,
            storeys=5,
            floor_to_floor_m=2.8,
            ground_floor_to_floor_m=4.2,
            slab_m=0.22,
            structure="columns",
            grid_m=6.0,
            column_rows=2,
            core="facade",
            stairs=1,
            lifts=1,
            shafts=2,
            wall_layers=_RECENT_FACADE,
            wall_u_w_m2k=0.36,
            window_u_w_m2k=1.4,
            roof_u_w_m2k=0.20,
            floor_u_w_m2k=0.27,
            imposed_load_kn_m2=1.5,
            space_rows=(SpaceRow("Logement", "Appartement T3", "housing", 4),),
            ground_space_rows=(SpaceRow("Commerce", "Boutique", "commerce", 3),),
            placement=at(70.0, -10.0, -5.0),
        ),
        *[
            BuildingSpec(
                key=f"house_{year}",
                name=f"Maison {label} ({year})",
                use="housing",
                year=year,
                length_m=10.0,
                depth_m=8.0,
                storeys=2,
                floor_to_floor_m=2.7,
                slab_m=0.20,
                structure="bearing_facades",
                grid_m=5.0,
                core="central",
                stairs=1,
                lifts=0,
                shafts=0,
                wall_layers=layers,
                wall_u_w_m2k=u_wall,
                window_u_w_m2k=u_win,
                roof_u_w_m2k=u_roof,
                floor_u_w_m2k=u_floor,
                imposed_load_kn_m2=1.5,
                window_width_m=1.0,
                window_height_m=1.25,
                space_rows=(SpaceRow("Pièce", "Pièce de vie", "housing", 2),),
                placement=at(dx, dy),
            )
            for year, label, layers, u_wall, u_win, u_roof, u_floor, dx, dy in [
                (
                    1935,
                    "de ville",
                    (Layer("Moellons", 0.45, "masonry"), Layer("Enduit", 0.02, "plaster")),
                    2.5,
                    5.4,
                    2.5,
                    2.0,
                    115.0,
                    12.0,
                ),
                (
                    1978,
                    "pavillon",
                    (Layer("Parpaing", 0.20, "masonry"), Layer("Polystyrène expansé", 0.04, "insulation")),
                    1.0,
                    2.9,
                    0.50,
                    0.9,
                    130.0,
                    12.0,
                ),
                (2015, "RT 2012", _RECENT_FACADE, 0.23, 1.4, 0.14, 0.23, 145.0, 12.0),
            ]
        ],
    ]
